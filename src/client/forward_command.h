#pragma once
// `hvterm forward TARGET -L ... -R ...`: forwards ports into and out of the guest until told to stop.
#include <vector>

#include "client/forward_spec.h"
#include "client/session_client.h"

namespace hvterm {

int command_forward(const ClientOptions& options, std::vector<LocalForward> local, std::vector<RemoteForward> remote);

}  // namespace hvterm
