#pragma once
// The hvterm subcommands other than the session bridge itself.
#include <string>

#include "protocol/wire.h"
#include "transport/connector.h"

namespace hvterm {

struct CommonOptions {
  Target target;
  ConnectOptions connect;
  std::string token;
};

int command_ls(const CommonOptions& options, bool json);
// `recipient`: the session's process (the default), the terminal's foreground job, or the whole
// session (hung up and discarded; `signal` unused).
int command_kill(const CommonOptions& options, const std::string& session, const std::string& signal,
                 wire::KillRecipient recipient);
int command_ping(const CommonOptions& options, double wait_seconds);
int command_vms(bool json);
int command_service_id(const std::string& port);
int command_port(const std::string& guid);
int command_register(uint32_t port, const std::string& name);

}  // namespace hvterm
