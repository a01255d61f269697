// Linked into hvterm and hvtermd only when built with -DHVTERM_SANITIZE=ON: LeakSanitizer's defaults
// for every way the tests start them (pytest, shells, the guest), whatever the environment says.
//
// GCC 12's LeakSanitizer on Debian 12's glibc can crash in its own tracer ("Tracer caught signal
// 11", a dynamic TLS block with an impossible range) at exit once libvirt and GLib, which use
// thread-local storage, have been loaded with dlopen (`hvterm vms`). Whether it happens depends on
// the program's layout, not on what it does. So thread-local storage is not scanned for pointers;
// what only libvirt and GLib keep there (their per-thread error and context objects) would then
// look leaked, and those two libraries' allocations are left out of the report, as is the per-thread
// resolver state glibc keeps for getaddrinfo (hvtermd resolves the names `hvterm nc` is given).
extern "C" {
const char* __lsan_default_options() { return "use_tls=0:print_suppressions=0"; }
const char* __lsan_default_suppressions() {
  return "leak:libglib-2.0.so\nleak:libvirt.so\nleak:__res_context_send\nleak:getaddrinfo\n";
}
}
