// tenantctl: operations tool (replay, verify, events, export, import, token, bench).
#include <cstdio>

int main() {
  std::puts("tenantctl: no subcommands yet");
  return 0;
}
