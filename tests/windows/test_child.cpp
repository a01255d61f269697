// A child process for the Windows tests, doing one small thing per run. Wine's own tools do not
// cover it: its findstr ignores stdin, nothing copies binary stdin to stdout, and Wine's ConPTY
// shows only what a program writes to a console it opened itself (CONOUT$).
//
//   hvterm_test_child cat              stdin to stdout, byte for byte, until EOF
//   hvterm_test_child conout TEXT      TEXT and CR LF to CONOUT$ (the pseudo console)
//   hvterm_test_child stdout TEXT      TEXT to the standard output handle
//   hvterm_test_child stderr TEXT      TEXT to the standard error handle
//   hvterm_test_child exit N           exit with code N
//   hvterm_test_child env NAME         the value of NAME to stdout
//   hvterm_test_child echo-line        a line typed into CONIN$ back to CONOUT$ as "got LINE"
//   hvterm_test_child sleep MS         sleep, then exit 0
//   hvterm_test_child connect PORT     stdin to 127.0.0.1:PORT, then half-close; what comes back to stdout
#include <winsock2.h>
#include <windows.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

bool write_all(HANDLE handle, const char* data, DWORD size) {
  while (size > 0) {
    DWORD written = 0;
    if (!WriteFile(handle, data, size, &written, nullptr) || written == 0) return false;
    data += written;
    size -= written;
  }
  return true;
}

bool write_text(HANDLE handle, const std::string& text) {
  return write_all(handle, text.data(), static_cast<DWORD>(text.size()));
}

HANDLE open_console(const wchar_t* name) {
  return CreateFileW(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING, 0,
                     nullptr);
}

int cat() {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
  char buffer[65536];
  DWORD n = 0;
  while (ReadFile(in, buffer, sizeof(buffer), &n, nullptr) && n > 0)
    if (!write_all(out, buffer, n)) return 1;
  return 0;
}

int echo_line() {
  HANDLE in = open_console(L"CONIN$"), out = open_console(L"CONOUT$");
  std::string line;
  char c;
  DWORD n = 0;
  while (ReadFile(in, &c, 1, &n, nullptr) && n == 1 && c != '\r' && c != '\n') line.push_back(c);
  return write_text(out, "got " + line + "\r\n") ? 0 : 1;
}

int connect_to(int port) {
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return 3;
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<u_short>(port));
  if (connect(s, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 4;
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
  char buffer[65536];
  DWORD n = 0;
  // Small inputs only (the tests send a few KiB): all of it goes out before anything is read back.
  while (ReadFile(in, buffer, sizeof(buffer), &n, nullptr) && n > 0)
    for (DWORD sent = 0; sent < n;) {
      int k = send(s, buffer + sent, static_cast<int>(n - sent), 0);
      if (k <= 0) return 5;
      sent += static_cast<DWORD>(k);
    }
  shutdown(s, SD_SEND);
  for (int k; (k = recv(s, buffer, static_cast<int>(sizeof buffer), 0)) > 0;)
    if (!write_all(out, buffer, static_cast<DWORD>(k))) return 1;
  closesocket(s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string mode = argv[1];
  std::string arg = argc > 2 ? argv[2] : "";
  if (mode == "cat") return cat();
  if (mode == "conout") return write_text(open_console(L"CONOUT$"), arg + "\r\n") ? 0 : 1;
  if (mode == "stdout") return write_text(GetStdHandle(STD_OUTPUT_HANDLE), arg) ? 0 : 1;
  if (mode == "stderr") return write_text(GetStdHandle(STD_ERROR_HANDLE), arg) ? 0 : 1;
  if (mode == "exit") return std::atoi(arg.c_str());
  if (mode == "env") {
    const char* value = std::getenv(arg.c_str());
    return value != nullptr && write_text(GetStdHandle(STD_OUTPUT_HANDLE), value) ? 0 : 1;
  }
  if (mode == "echo-line") return echo_line();
  if (mode == "connect") return connect_to(std::atoi(arg.c_str()));
  if (mode == "sleep") {
    Sleep(static_cast<DWORD>(std::atoi(arg.c_str())));
    return 0;
  }
  return 2;
}
