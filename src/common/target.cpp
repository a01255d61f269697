#include "common/target.h"

#include <cctype>
#include <cstdlib>

#include "common/guid.h"

namespace hvterm {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::optional<uint32_t> parse_u32(const std::string& s) {
  if (!all_digits(s) || s.size() > 10) return std::nullopt;
  unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (v > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::optional<Guid> parse_service(const std::string& text) {
  if (auto port = parse_port(text)) return service_guid_for_port(*port);
  return parse_guid(text);
}

}  // namespace

std::optional<uint32_t> parse_port(const std::string& text) {
  auto v = parse_u32(text);
  if (!v || *v == 0 || *v == 0xFFFFFFFFu) return std::nullopt;
  return v;
}

std::optional<Target> parse_target(const std::string& text, uint32_t default_port, std::string& error) {
  Target target;
  target.text = text;
  auto fail = [&error, &text](const std::string& why) {
    error = "invalid target '" + text + "': " + why;
    return std::nullopt;
  };
  if (text.empty()) return fail("empty");
  if (text == "local") {
    target.where = LocalTarget{};
    return target;
  }
  if (text.rfind("unix:", 0) == 0) {
    std::string path = text.substr(5);
    if (path.empty()) return fail("expected unix:PATH");
    target.where = Address{UnixAddress{path}};
    return target;
  }
  if (text.rfind("hybrid:", 0) == 0) {
    std::string rest = text.substr(7);
    auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0) return fail("expected hybrid:PATH:PORT");
    auto port = parse_port(rest.substr(colon + 1));
    if (!port) return fail("'" + rest.substr(colon + 1) + "' is not a port number (1-4294967294)");
    target.where = Address{HybridAddress{rest.substr(0, colon), *port}};
    return target;
  }
  if (text.rfind("vsock:", 0) == 0) {
    std::string rest = text.substr(6);
    auto colon = rest.find(':');
    std::string cid_text = rest.substr(0, colon);
    auto cid = parse_u32(cid_text);
    if (!cid) return fail("'" + cid_text + "' is not a CID (a number such as 3)");
    if (*cid == kVsockCidAny) return fail("CID 4294967295 (any) is for listening, not connecting");
    uint32_t port = default_port;
    if (colon != std::string::npos) {
      auto p = parse_port(rest.substr(colon + 1));
      if (!p) return fail("'" + rest.substr(colon + 1) + "' is not a port number (1-4294967294)");
      port = *p;
    }
    target.where = Address{VsockAddress{*cid, port}};
    return target;
  }
  if (text.rfind("hv:", 0) == 0) {
    std::string rest = text.substr(3);
    // The VM ID is a 36-character GUID, optionally in braces; a service may follow after ':'.
    size_t id_length = !rest.empty() && rest[0] == '{' ? 38 : 36;
    auto vm = parse_guid(rest.substr(0, id_length));
    if (!vm) return fail("expected hv:VMID[:SERVICE] with VMID a GUID such as 4a3f...-...");
    Guid service = service_guid_for_port(default_port);
    if (rest.size() > id_length) {
      if (rest[id_length] != ':') return fail("expected ':' after the VM ID");
      auto s = parse_service(rest.substr(id_length + 1));
      if (!s) return fail("'" + rest.substr(id_length + 1) + "' is neither a port number nor a service GUID");
      service = *s;
    }
    target.where = Address{HyperVAddress{*vm, service}};
    return target;
  }
  if (all_digits(text)) {
    auto cid = parse_u32(text);
    if (!cid || *cid == kVsockCidAny) return fail("not a valid CID");
    target.where = Address{VsockAddress{*cid, default_port}};
    return target;
  }
  if (auto vm = parse_guid(text)) {
    target.where = Address{HyperVAddress{*vm, service_guid_for_port(default_port)}};
    return target;
  }
  if (text.find(':') != std::string::npos || text.find('/') != std::string::npos)
    return fail(
        "unknown form; use local, unix:PATH, hybrid:PATH:PORT, vsock:CID[:PORT], hv:VMID[:SERVICE] or a VM name");
  target.where = NamedTarget{text, std::nullopt};
  return target;
}

std::optional<Address> parse_listen_address(const std::string& text, uint32_t default_port, std::string& error) {
  auto fail = [&error, &text](const std::string& why) {
    error = "invalid listen address '" + text + "': " + why;
    return std::nullopt;
  };
  if (text.rfind("unix:", 0) == 0) {
    if (text.size() == 5) return fail("expected unix:PATH");
    return Address{UnixAddress{text.substr(5)}};
  }
  if (text.rfind("vsock:", 0) == 0) {
    std::string rest = text.substr(6);
    auto colon = rest.find(':');
    std::string cid_text = rest.substr(0, colon);
    uint32_t cid = kVsockCidAny;
    if (cid_text != "any") {
      auto c = parse_u32(cid_text);
      if (!c) return fail("'" + cid_text + "' is not a CID or 'any'");
      cid = *c;
    }
    uint32_t port = default_port;
    if (colon != std::string::npos) {
      auto p = parse_port(rest.substr(colon + 1));
      if (!p) return fail("'" + rest.substr(colon + 1) + "' is not a port number");
      port = *p;
    }
    return Address{VsockAddress{cid, port}};
  }
  if (text.rfind("hv:", 0) == 0) {
    std::string rest = text.substr(3);
    auto service = rest.empty() ? std::optional<Guid>(service_guid_for_port(default_port)) : parse_service(rest);
    if (!service) return fail("expected hv:[SERVICE] with SERVICE a port number or a GUID");
    return Address{HyperVAddress{Guid{}, *service}};
  }
  return fail("expected unix:PATH, vsock:any[:PORT] or hv:[SERVICE]");
}

std::string describe(const Address& address) {
  struct Describe {
    std::string operator()(const UnixAddress& a) const { return "unix:" + a.path; }
    std::string operator()(const VsockAddress& a) const {
      return "vsock:" + (a.cid == kVsockCidAny ? std::string("any") : std::to_string(a.cid)) + ":" +
             std::to_string(a.port);
    }
    std::string operator()(const HyperVAddress& a) const {
      return "hv:" + (is_zero(a.vm) ? std::string("*") : format_guid(a.vm)) + ":" + format_guid(a.service);
    }
    std::string operator()(const HybridAddress& a) const { return "hybrid:" + a.path + ":" + std::to_string(a.port); }
  };
  return std::visit(Describe{}, address);
}

}  // namespace hvterm
