#pragma once
// `hvterm forward TARGET -L ...`: forwards local ports into the guest until told to stop.
#include <vector>

#include "client/forward_spec.h"
#include "client/session_client.h"

namespace hvterm {

int command_forward(const ClientOptions& options, std::vector<LocalForward> forwards);

}  // namespace hvterm
