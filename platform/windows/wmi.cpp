// Hyper-V's WMI provider (root\virtualization\v2): every VM with its name and state, running or not.
#include <winsock2.h>  // first: windows.h and the socket headers depend on it
#include <windows.h>
#include <objbase.h>
#include <wbemidl.h>

#include "platform/vms.h"
#include "platform/windows/internal.h"
#include "platform/windows/vm_catalog.h"

namespace hvterm::platform::detail {
namespace {

template <typename T>
class ComRef {
 public:
  ComRef() = default;
  ComRef(const ComRef&) = delete;
  ComRef& operator=(const ComRef&) = delete;
  ~ComRef() {
    if (p_ != nullptr) p_->Release();
  }
  T** out() { return &p_; }
  T* operator->() const { return p_; }
  T* get() const { return p_; }

 private:
  T* p_ = nullptr;
};

class Bstr {
 public:
  explicit Bstr(const wchar_t* text) : s_(SysAllocString(text)) {}
  Bstr(const Bstr&) = delete;
  Bstr& operator=(const Bstr&) = delete;
  ~Bstr() { SysFreeString(s_); }
  BSTR get() const { return s_; }

 private:
  BSTR s_;
};

// COM for the calling thread, in whatever mode it already has if someone set one.
class ComScope {
 public:
  ComScope() : hr_(CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {
    // Fails harmlessly (RPC_E_TOO_LATE) when the process already chose its security.
    CoInitializeSecurity(nullptr, -1, nullptr, nullptr, RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE, nullptr,
                         EOAC_NONE, nullptr);
  }
  ComScope(const ComScope&) = delete;
  ComScope& operator=(const ComScope&) = delete;
  ~ComScope() {
    if (SUCCEEDED(hr_)) CoUninitialize();
  }
  bool usable() const { return SUCCEEDED(hr_) || hr_ == RPC_E_CHANGED_MODE; }
  HRESULT result() const { return hr_; }

 private:
  HRESULT hr_;
};

std::string string_property(IWbemClassObject* object, const wchar_t* name) {
  VARIANT value;
  VariantInit(&value);
  std::string out;
  if (SUCCEEDED(object->Get(name, 0, &value, nullptr, nullptr)) && V_VT(&value) == VT_BSTR && V_BSTR(&value) != nullptr)
    out = narrow(V_BSTR(&value), SysStringLen(V_BSTR(&value)));
  VariantClear(&value);
  return out;
}

uint32_t number_property(IWbemClassObject* object, const wchar_t* name) {
  VARIANT value;
  VariantInit(&value);
  uint32_t out = 0;
  if (SUCCEEDED(object->Get(name, 0, &value, nullptr, nullptr)) &&
      SUCCEEDED(VariantChangeType(&value, &value, 0, VT_UI4)))
    out = V_UI4(&value);
  VariantClear(&value);
  return out;
}

}  // namespace

bool wmi_list_vms(std::vector<VmInfo>& out, std::string& error) {
  ComScope com;
  if (!com.usable()) {
    error = "cannot use COM: " + system_error_text(static_cast<unsigned long>(com.result()));
    return false;
  }
  ComRef<IWbemLocator> locator;
  ComRef<IWbemServices> services;
  ComRef<IEnumWbemClassObject> rows;
  Bstr space(L"ROOT\\virtualization\\v2"), language(L"WQL"),
      query(L"SELECT Name, ElementName, EnabledState FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine'");
  HRESULT hr = CoCreateInstance(CLSID_WbemLocator, nullptr, CLSCTX_INPROC_SERVER, IID_IWbemLocator,
                                reinterpret_cast<void**>(locator.out()));
  if (SUCCEEDED(hr))
    hr = locator->ConnectServer(space.get(), nullptr, nullptr, nullptr, 0, nullptr, nullptr, services.out());
  if (SUCCEEDED(hr))
    hr = CoSetProxyBlanket(services.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, nullptr, RPC_C_AUTHN_LEVEL_CALL,
                           RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE);
  if (SUCCEEDED(hr))
    hr = services->ExecQuery(language.get(), query.get(), WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY,
                             nullptr, rows.out());
  while (SUCCEEDED(hr)) {
    ComRef<IWbemClassObject> row;
    ULONG returned = 0;
    hr = rows->Next(static_cast<long>(WBEM_INFINITE), 1, row.out(), &returned);
    if (hr != WBEM_S_NO_ERROR || returned == 0) break;
    auto vm = vm_from_wmi(string_property(row.get(), L"Name"), string_property(row.get(), L"ElementName"),
                          number_property(row.get(), L"EnabledState"));
    if (vm) out.push_back(*vm);
  }
  if (FAILED(hr)) {
    error = wmi_error_text(static_cast<long>(hr));
    return false;
  }
  return true;
}

}  // namespace hvterm::platform::detail
