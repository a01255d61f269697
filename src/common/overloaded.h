#pragma once
// std::visit with one lambda per alternative: a variant that gains an alternative nobody handles
// fails to compile instead of falling through to a catch-all.
namespace hvterm {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace hvterm
