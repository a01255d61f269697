#include "platform/linux/libvirt.h"

#include <dlfcn.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdlib>

namespace hvterm::platform::detail {
namespace {

struct Api {
  decltype(&virConnectOpenReadOnly) open_read_only = nullptr;
  decltype(&virConnectClose) close = nullptr;
  decltype(&virConnectGetURI) get_uri = nullptr;
  decltype(&virConnectListAllDomains) list_all = nullptr;
  decltype(&virDomainLookupByName) by_name = nullptr;
  decltype(&virDomainGetName) name = nullptr;
  decltype(&virDomainGetState) state = nullptr;
  decltype(&virDomainGetXMLDesc) xml = nullptr;
  decltype(&virDomainFree) free_domain = nullptr;
  decltype(&virGetLastError) last_error = nullptr;
  decltype(&virSetErrorFunc) set_error_func = nullptr;
  std::string load_error;
};

template <typename F>
bool bind(void* library, const char* symbol, F& out) {
  out = reinterpret_cast<F>(dlsym(library, symbol));
  return out != nullptr;
}

const Api& api() {
  static const Api loaded = [] {
    Api a;
    void* library = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      a.load_error = "VM names are looked up in libvirt, which is not installed here (libvirt0)";
      return a;
    }
    bool ok = bind(library, "virConnectOpenReadOnly", a.open_read_only) && bind(library, "virConnectClose", a.close) &&
              bind(library, "virConnectGetURI", a.get_uri) && bind(library, "virConnectListAllDomains", a.list_all) &&
              bind(library, "virDomainLookupByName", a.by_name) && bind(library, "virDomainGetName", a.name) &&
              bind(library, "virDomainGetState", a.state) && bind(library, "virDomainGetXMLDesc", a.xml) &&
              bind(library, "virDomainFree", a.free_domain) && bind(library, "virGetLastError", a.last_error) &&
              bind(library, "virSetErrorFunc", a.set_error_func);
    if (!ok) {
      a.load_error = "the installed libvirt lacks functions hvterm needs (" + std::string(dlerror()) + ")";
      a.open_read_only = nullptr;
      return a;
    }
    // libvirt prints every error on stderr by default; hvterm reports them itself, in one line.
    a.set_error_func(nullptr, [](void*, virErrorPtr) {});
    return a;
  }();
  return loaded;
}

std::string last_error_text() {
  virErrorPtr e = api().last_error();
  return e != nullptr && e->message != nullptr ? e->message : "unknown libvirt error";
}

std::string state_name(int state) {
  switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED: return "running";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "stopping";
    case VIR_DOMAIN_SHUTOFF: return "off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "suspended";
    default: return "unknown";
  }
}

// Name, state and live XML of a domain; frees it. nullopt with an empty `error` when the
// domain went away meanwhile (a transient one, destroyed).
std::optional<LibvirtDomain> describe(virDomainPtr domain, std::string& error) {
  const Api& a = api();
  LibvirtDomain out;
  const char* name = a.name(domain);
  int state = 0, reason = 0;
  char* xml = a.xml(domain, 0);
  bool ok = name != nullptr && a.state(domain, &state, &reason, 0) == 0 && xml != nullptr;
  if (ok) {
    out = LibvirtDomain{name, state_name(state), xml};
  } else if (virErrorPtr e = a.last_error(); e == nullptr || e->code != VIR_ERR_NO_DOMAIN) {
    error = "cannot read a libvirt domain: " + last_error_text();
  }
  std::free(xml);  // libvirt's strings are the caller's, to free()
  a.free_domain(domain);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

std::unique_ptr<Libvirt> Libvirt::connect(std::string& error) {
  const Api& a = api();
  if (a.open_read_only == nullptr) {
    error = a.load_error;
    return nullptr;
  }
  virConnectPtr connection = a.open_read_only(nullptr);
  if (connection == nullptr) {
    error = "cannot connect to libvirt: " + last_error_text();
    return nullptr;
  }
  std::unique_ptr<Libvirt> lv(new Libvirt(connection));
  if (char* uri = a.get_uri(connection)) {
    lv->uri_ = uri;
    std::free(uri);
  }
  return lv;
}

Libvirt::~Libvirt() { api().close(static_cast<virConnectPtr>(connection_)); }

std::optional<LibvirtDomain> Libvirt::find(const std::string& name, std::string& error) {
  const Api& a = api();
  virDomainPtr domain = a.by_name(static_cast<virConnectPtr>(connection_), name.c_str());
  if (domain == nullptr) {
    virErrorPtr e = a.last_error();
    if (e != nullptr && e->code != VIR_ERR_NO_DOMAIN)
      error = "cannot look up '" + name + "' in libvirt: " + last_error_text();
    return std::nullopt;
  }
  return describe(domain, error);
}

bool Libvirt::list(std::vector<LibvirtDomain>& out, std::string& error) {
  const Api& a = api();
  virDomainPtr* domains = nullptr;
  int count = a.list_all(static_cast<virConnectPtr>(connection_), &domains, 0);
  if (count < 0) {
    error = "cannot list libvirt domains: " + last_error_text();
    return false;
  }
  bool ok = true;
  for (int i = 0; i < count; ++i) {
    if (!ok) {
      a.free_domain(domains[i]);
      continue;
    }
    auto domain = describe(domains[i], error);
    if (domain)
      out.push_back(std::move(*domain));
    else
      ok = error.empty();  // one that vanished is simply not listed
  }
  std::free(domains);
  return ok;
}

}  // namespace hvterm::platform::detail
