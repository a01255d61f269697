// The Host Compute Service's list of compute systems. computecore.dll is loaded at run time, never
// linked: it exists only where Hyper-V is installed (not in plain Windows, not under Wine), and a
// linked DLL that is missing would keep hvterm.exe from starting at all.
#include "platform/vms.h"
#include "platform/windows/internal.h"
#include "platform/windows/vm_catalog.h"

namespace hvterm::platform::detail {
namespace {

using HcsOperation = void*;
using CreateOperationFn = HcsOperation(WINAPI*)(const void*, void*);
using CloseOperationFn = void(WINAPI*)(HcsOperation);
using EnumerateFn = HRESULT(WINAPI*)(const wchar_t*, HcsOperation);
using WaitFn = HRESULT(WINAPI*)(HcsOperation, DWORD, wchar_t**);

constexpr DWORD kTimeoutMs = 10000;

}  // namespace

bool hcs_list_vms(std::vector<VmInfo>& out, std::string& error) {
  HMODULE dll = LoadLibraryExW(L"computecore.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (dll == nullptr) {
    error = hcs_error_text(static_cast<long>(HRESULT_FROM_WIN32(GetLastError())));
    return false;
  }
  auto create = dll_function<CreateOperationFn>(dll, "HcsCreateOperation");
  auto close = dll_function<CloseOperationFn>(dll, "HcsCloseOperation");
  auto enumerate = dll_function<EnumerateFn>(dll, "HcsEnumerateComputeSystems");
  auto wait = dll_function<WaitFn>(dll, "HcsWaitForOperationResult");
  bool ok = false;
  if (create == nullptr || close == nullptr || enumerate == nullptr || wait == nullptr) {
    error = "this computecore.dll lacks the functions hvterm needs";
  } else if (HcsOperation operation = create(nullptr, nullptr); operation == nullptr) {
    error = hcs_error_text(static_cast<long>(HRESULT_FROM_WIN32(GetLastError())));
  } else {
    wchar_t* result = nullptr;
    HRESULT hr = enumerate(L"{}", operation);  // an empty query: every compute system
    if (SUCCEEDED(hr)) hr = wait(operation, kTimeoutMs, &result);
    if (FAILED(hr))
      error = hcs_error_text(static_cast<long>(hr));
    else
      ok = parse_hcs_systems(result != nullptr ? narrow(result, wcslen(result)) : std::string("[]"), out, error);
    if (result != nullptr) LocalFree(result);
    close(operation);
  }
  FreeLibrary(dll);
  return ok;
}

}  // namespace hvterm::platform::detail
