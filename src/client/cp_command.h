#pragma once
// `hvterm cp`: files and trees into and out of the guest. The agent copies itself (a copy session,
// src/agent/file_copy); this side walks or extracts the same copy stream (src/copy).
#include <optional>
#include <string>
#include <vector>

#include "client/session_client.h"

namespace hvterm {

// Which side is the guest's, from the operands as written. Without --target, the guest's paths are
// TARGET:PATH, split at the first ':' when the target is a name, `local` or a CID; `vsock:CID[:PORT]:PATH`
// and `hv:VMID[:SERVICE]:PATH` take the port only when a path follows it; unix: and hybrid: targets
// hold a path of their own and need --target. With --target, the guest's paths are written :PATH.
// An operand with a '/' before its first ':' is local, as in scp.
struct CopyOperands {
  std::string target;
  bool into_guest = false;
  std::vector<std::string> sources;
  std::string dest;
};
std::optional<CopyOperands> parse_copy_operands(const std::vector<std::string>& operands, const std::string& target,
                                                std::string& error);

struct CopyOptions {
  bool recursive = false, preserve = false, no_clobber = false;
  bool resume = false;    // continue partial files an interrupted copy left
  bool progress = false;  // a progress line on stderr
};
int command_cp(ClientOptions options, const CopyOperands& operands, const CopyOptions& copy);

}  // namespace hvterm
