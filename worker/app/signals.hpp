#pragma once
// SIGTERM and SIGINT are taken synchronously (sigwait) by whoever waits for
// them, never by asynchronous handlers.

#include <pthread.h>

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

}  // namespace patternd::app
