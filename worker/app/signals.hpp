#pragma once
// How commands take SIGTERM and SIGINT: synchronously (sigwait) where a
// thread can wait for them, or by a handler that only sets a flag.

#include <pthread.h>

#include <atomic>
#include <csignal>

namespace patternd::app {

// Blocks SIGTERM and SIGINT in the calling thread (and the threads it starts
// afterwards) and returns that set, for sigwait. Call before starting threads.
inline sigset_t block_termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// SIGTERM and SIGINT set `flag` (and do nothing else), whichever thread they
// reach: unlike sigwait this holds even for threads started before main (an
// LD_PRELOADed library's, for one). `flag` must outlive the process.
inline void set_on_termination_signals(std::atomic<bool>& flag) {
  static std::atomic<bool>* g_flag = nullptr;
  static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
  g_flag = &flag;
  struct sigaction action {};
  action.sa_handler = [](int) { g_flag->store(true); };
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

}  // namespace patternd::app
