// Users on Windows: names and profiles for sessions, and whether another process may be trusted
// (same user, SYSTEM, or an elevated administrator: what "same uid or root" is on POSIX).
#include <winsock2.h>  // first: windows.h and the socket headers depend on it
#include <windows.h>
#include <sddl.h>

#include <cwchar>

#include "platform/system.h"
#include "platform/windows/internal.h"

namespace hvterm::platform {
namespace {

// Sessions start cmd.exe (or whatever COMSPEC names) where POSIX would start the login shell.
std::string default_shell() { return detail::environment_variable(L"COMSPEC", "cmd.exe"); }

bool same_name(const std::string& a, const std::string& b) {
  std::wstring wa = detail::widen(a), wb = detail::widen(b);
  return CompareStringOrdinal(wa.data(), static_cast<int>(wa.size()), wb.data(), static_cast<int>(wb.size()), TRUE) ==
         CSTR_EQUAL;
}

// The profile directory of an account that is not ours, from the registry's profile list.
std::string profile_of(PSID sid) {
  wchar_t* sid_text = nullptr;
  if (!ConvertSidToStringSidW(sid, &sid_text)) return {};
  std::wstring key = L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\";
  key += sid_text;
  LocalFree(sid_text);
  wchar_t value[MAX_PATH];
  DWORD size = sizeof(value);
  if (RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), L"ProfileImagePath", RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ, nullptr,
                   value, &size) != ERROR_SUCCESS)
    return {};
  return detail::narrow(value, wcsnlen(value, MAX_PATH));
}

std::vector<BYTE> token_user(HANDLE token) {
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<BYTE> buffer(size);
  if (size == 0 || !GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) return {};
  return buffer;
}

PSID sid_of(std::vector<BYTE>& token_user_buffer) {
  return token_user_buffer.empty() ? nullptr : reinterpret_cast<TOKEN_USER*>(token_user_buffer.data())->User.Sid;
}

std::string account_name(PSID sid) {
  wchar_t name[256], domain[256];
  DWORD name_size = 256, domain_size = 256;
  SID_NAME_USE use;
  if (LookupAccountSidW(nullptr, sid, name, &name_size, domain, &domain_size, &use))
    return detail::narrow(std::wstring(domain) + L"\\" + name);
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text)) return "an unknown user";
  std::string out = detail::narrow(text, wcslen(text));
  LocalFree(text);
  return out;
}

bool elevated_administrator(HANDLE token) {
  HANDLE impersonation = nullptr;
  if (!DuplicateToken(token, SecurityIdentification, &impersonation)) return false;
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD size = sizeof(sid);
  BOOL member = FALSE;
  // A filtered (non-elevated) token holds Administrators as deny-only, which does not count here.
  if (CreateWellKnownSid(WinBuiltinAdministratorsSid, nullptr, sid, &size))
    CheckTokenMembership(impersonation, sid, &member);
  CloseHandle(impersonation);
  return member != FALSE;
}

}  // namespace

std::optional<UserInfo> current_user() {
  uv_passwd_t pw;
  if (uv_os_get_passwd(&pw) != 0) return std::nullopt;
  UserInfo user{pw.username != nullptr ? pw.username : "", pw.homedir != nullptr ? pw.homedir : "", default_shell(), 0,
                0};
  uv_os_free_passwd(&pw);
  return user;
}

std::optional<UserInfo> lookup_user(const std::string& name) {
  auto self = current_user();
  if (self && same_name(self->name, name)) return self;
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD sid_size = sizeof(sid);
  wchar_t domain[256];
  DWORD domain_size = 256;
  SID_NAME_USE use;
  if (!LookupAccountNameW(nullptr, detail::widen(name).c_str(), sid, &sid_size, domain, &domain_size, &use) ||
      use != SidTypeUser)
    return std::nullopt;
  return UserInfo{name, profile_of(sid), default_shell(), 0, 0};
}

namespace detail {

bool trusted_peer_process(unsigned long pid, std::string& who) {
  who = "process " + std::to_string(pid);
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (process == nullptr) return false;
  HANDLE peer_token = nullptr, own_token = nullptr;
  bool trusted = false;
  if (OpenProcessToken(process, TOKEN_QUERY | TOKEN_DUPLICATE, &peer_token) &&
      OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &own_token)) {
    auto peer_user = token_user(peer_token), own_user = token_user(own_token);
    PSID peer_sid = sid_of(peer_user), own_sid = sid_of(own_user);
    if (peer_sid != nullptr && own_sid != nullptr) {
      trusted = EqualSid(peer_sid, own_sid) || IsWellKnownSid(peer_sid, WinLocalSystemSid) ||
                elevated_administrator(peer_token);
      who = account_name(peer_sid);
    }
  }
  if (peer_token != nullptr) CloseHandle(peer_token);
  if (own_token != nullptr) CloseHandle(own_token);
  CloseHandle(process);
  return trusted;
}

}  // namespace detail
}  // namespace hvterm::platform
