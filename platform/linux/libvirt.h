#pragma once
// libvirt, loaded the first time a VM name is looked up: hvterm runs on hosts and in guests that
// have no libvirt, and nothing but a name needs it. The functions are libvirt's own (their types
// come from its headers), found with dlsym in libvirt.so.0.
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hvterm::platform::detail {

struct LibvirtDomain {
  std::string name, state, xml;  // state: running, paused, off, ...; xml: the live description
};

class Libvirt {
 public:
  // A read-only connection to the default hypervisor: LIBVIRT_DEFAULT_URI, else libvirt's default.
  static std::unique_ptr<Libvirt> connect(std::string& error);
  ~Libvirt();
  Libvirt(const Libvirt&) = delete;
  Libvirt& operator=(const Libvirt&) = delete;

  const std::string& uri() const { return uri_; }
  // nullopt with an empty `error` when there is no domain of that name.
  std::optional<LibvirtDomain> find(const std::string& name, std::string& error);
  bool list(std::vector<LibvirtDomain>& out, std::string& error);

 private:
  explicit Libvirt(void* connection) : connection_(connection) {}
  void* connection_;  // virConnectPtr
  std::string uri_;
};

}  // namespace hvterm::platform::detail
