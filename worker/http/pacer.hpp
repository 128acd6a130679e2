#pragma once
// Streamed responses (http::Stream) on libmicrohttpd. Internal to http/.
//
// A stream's pieces wait in its state until they are due. The library asks
// for body bytes on its event loop; when none is due, the connection is
// suspended (the library then neither calls nor polls it) and parked here.
// One pacing thread resumes each parked connection when its next piece is
// due, when more pieces arrive, or when its client hung up (which it sees
// by polling the parked sockets itself: the library does not while a
// connection is suspended). Pieces are made by the stream on the server's
// worker threads, a bounded number ahead of what was sent.

#include <microhttpd.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http/server.hpp"

namespace patternd::http {

struct StreamState;

class Pacer {
 public:
  // Runs a task on the server's worker threads.
  using Submit = std::function<void(std::function<void()>)>;

  explicit Pacer(Submit submit);
  ~Pacer();  // stop()s
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  // A stream's state with its first pieces already made (so its first byte
  // goes out at once): call on a worker thread.
  std::shared_ptr<StreamState> open(std::shared_ptr<Stream> stream);
  // The library's chunked response sending `state` on `connection`.
  MHD_Response* response(MHD_Connection* connection, std::shared_ptr<StreamState> state);
  // Ends every stream, resuming the suspended connections (the library must
  // not be stopped with one suspended), and stops the pacing thread.
  void stop();

 private:
  static ssize_t read(void* cls, std::uint64_t, char* buf, std::size_t max);
  static void release(void* cls);
  ssize_t read(const std::shared_ptr<StreamState>& state, char* buf, std::size_t max);
  void fetch(const std::shared_ptr<StreamState>& state);
  bool park(std::shared_ptr<StreamState> state);
  void run();

  Submit m_submit;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_poked = false, m_stopping = false;
  std::vector<std::shared_ptr<StreamState>> m_parked;  // suspended, waiting for a piece
  std::thread m_thread;
};

}  // namespace patternd::http
