// The development JWT secret of a data directory (tenantd with no key configured, and
// `tenantctl token` without --jwt-secret).
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "tenant/api/auth.hpp"

namespace tenant::api {

namespace {

constexpr std::size_t secret_bytes = 32;  // HS256 wants a key at least as long as the hash
constexpr std::size_t max_file_bytes = 4096;

std::string errno_text(int e) {
  return std::strerror(e);
}

// Closes on scope exit.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

boost::system::result<std::string, key_error> read_secret_file(const std::string& path) {
  fd_guard f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (f.fd < 0) return key_error{"cannot open " + path + ": " + errno_text(errno)};
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return key_error{"cannot stat " + path + ": " + errno_text(errno)};
  if (!S_ISREG(st.st_mode)) return key_error{path + " is not a regular file"};
  // A secret others can read is no secret: make the operator fix it rather than use it.
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return key_error{path + " is accessible by other users (mode " + mode + "); run: chmod 600 " +
                     path};
  }
  std::string text;
  std::array<char, 512> buf{};
  for (;;) {
    const ssize_t n = ::read(f.fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return key_error{"cannot read " + path + ": " + errno_text(errno)};
    }
    if (n == 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > max_file_bytes) return key_error{path + " is too large to be a secret"};
  }
  OPENSSL_cleanse(buf.data(), buf.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.empty()) return key_error{path + " is empty"};
  return {boost::system::in_place_value, std::move(text)};
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::string dev_secret_path(std::string_view data_dir) {
  std::string p(data_dir);
  if (!p.empty() && p.back() != '/') p.push_back('/');
  return p + "dev-jwt-secret";
}

boost::system::result<std::string, key_error> read_dev_secret(std::string_view data_dir) {
  return read_secret_file(dev_secret_path(data_dir));
}

boost::system::result<std::string, key_error> load_or_create_dev_secret(std::string_view data_dir) {
  const std::string path = dev_secret_path(data_dir);
  if (::access(path.c_str(), F_OK) == 0) return read_secret_file(path);

  std::array<unsigned char, secret_bytes> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return key_error{"cannot generate a development secret: no randomness from OpenSSL"};
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string secret;
  secret.reserve(raw.size() * 2);
  for (auto b : raw) {
    secret.push_back(hex[b >> 4]);
    secret.push_back(hex[b & 0xF]);
  }
  OPENSSL_cleanse(raw.data(), raw.size());

  // Written to a private temporary file, synced, then linked into place: link() never replaces
  // an existing file, so two processes racing on one data directory agree on one secret.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    fd_guard f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)};
    if (f.fd < 0) return key_error{"cannot create " + tmp + ": " + errno_text(errno)};
    if (!write_all(f.fd, secret + "\n") || ::fsync(f.fd) != 0) {
      const int e = errno;
      ::unlink(tmp.c_str());
      return key_error{"cannot write " + tmp + ": " + errno_text(e)};
    }
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return read_secret_file(path);  // another process won the race
    return key_error{"cannot create " + path + ": " + errno_text(link_errno)};
  }
  std::string dir(data_dir.empty() ? "." : data_dir);
  fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
  return {boost::system::in_place_value, std::move(secret)};
}

}  // namespace tenant::api
