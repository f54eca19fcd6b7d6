// tenantd: the tenant domain service. The server lands with the API issue; until then this
// binary only parses its command line.
#include <cstdio>

int main() {
  std::puts("tenantd: not yet serving");
  return 0;
}
