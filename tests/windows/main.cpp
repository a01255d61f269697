#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <uv.h>  // windows.h in the order Winsock needs

int main(int argc, char** argv) {
  // Under Wine the desktop process starts on demand and inherits the standard error of whoever
  // needed it first. If that is a pseudo console's conhost, its stderr is the console's output
  // pipe, which then never reaches EOF. Needing the desktop here first makes it ours.
  GetDesktopWindow();
  return doctest::Context(argc, argv).run();
}
