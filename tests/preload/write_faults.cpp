// A fault injector for SQLite's writes, loaded into a patternd process with
// LD_PRELOAD (tests only): pwrite()/pwrite64() fail with a chosen errno, as
// they do on a file system gone read-only (EROFS), a full disk (ENOSPC) or a
// failing device (EIO). SQLite's unix VFS writes the database and its WAL
// with pwrite, so every write SQLite makes goes through here.
//
// Controlled from outside through a file named by WRITE_FAULTS_CONTROL,
// holding "ERRNO PERCENT" ("30 100": every write fails with EROFS; "5 30": 30%
// fail with EIO). No file, or an empty one: writes pass. Re-read at most
// every 10 ms.
//
// Why not libfiu's fiu-run (Debian's fiu-utils)? It wraps malloc, strdup and
// sigaction too, and deadlocks a multi-threaded process at start-up now and
// then (its lock against the dynamic loader's); only pwrite is needed here.

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace {

std::atomic<int> g_errno{0};
std::atomic<int> g_percent{0};
std::atomic<long long> g_next_read_ns{0};

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

void refresh() {
  const long long now = now_ns();
  if (now < g_next_read_ns.load(std::memory_order_relaxed)) return;
  g_next_read_ns.store(now + 10'000'000, std::memory_order_relaxed);
  const char* path = std::getenv("WRITE_FAULTS_CONTROL");
  int error = 0, percent = 0;
  if (path != nullptr) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char text[64] = {};
      if (::read(fd, text, sizeof text - 1) > 0 &&
          std::sscanf(text, "%d %d", &error, &percent) != 2)
        error = percent = 0;
      ::close(fd);
    }
  }
  g_errno.store(error, std::memory_order_relaxed);
  g_percent.store(percent, std::memory_order_relaxed);
}

// The errno this write fails with, or 0 to let it through.
int injected() {
  refresh();
  const int error = g_errno.load(std::memory_order_relaxed);
  const int percent = g_percent.load(std::memory_order_relaxed);
  if (error == 0 || percent <= 0) return 0;
  thread_local std::minstd_rand random(static_cast<unsigned>(now_ns()));
  return static_cast<int>(random() % 100) < percent ? error : 0;
}

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  static const auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (const int error = injected()) {
    errno = error;
    return -1;
  }
  return real(fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void* buffer, size_t count, off64_t offset) {
  static const auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  if (const int error = injected()) {
    errno = error;
    return -1;
  }
  return real(fd, buffer, count, offset);
}

}  // extern "C"
