#include "http/pacer.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <string>

#include "core/log.hpp"

namespace patternd::http {
namespace {

using Clock = std::chrono::steady_clock;

// More pieces are asked for when fewer than this many wait: a replay reads
// its session a page ahead, not whole.
constexpr std::size_t k_low_water = 64;
// How soon a client that hung up during a pause is noticed.
constexpr auto k_hangup_poll = std::chrono::milliseconds(100);
// A waiting stream sends its keepalive after this long without a byte
// (proxies commonly drop connections idle for 30 to 60 s).
constexpr auto k_keepalive_after = std::chrono::seconds(15);
// The library's buffer for a chunk, and the most a call copies into it.
constexpr std::size_t k_block = 16 * 1024;

}  // namespace

struct StreamState {
  Pacer* pacer = nullptr;
  std::shared_ptr<Stream> source;
  MHD_Connection* connection = nullptr;
  int fd = -1;
  std::mutex mutex;
  std::deque<std::pair<Clock::time_point, std::string>> pending;  // made, not yet due
  std::string outbox;                                             // due, not yet sent
  std::size_t sent = 0;                                           // of outbox
  Clock::time_point last_due, last_sent;
  bool done = false;       // the source has no more pieces
  bool fetching = false;   // a worker is making pieces
  bool suspended = false;  // parked: only the pacer (or stop) resumes it
  bool aborted = false;    // the client went away, or the server stops
};

Pacer::Pacer(Submit submit) : m_submit(std::move(submit)), m_thread([this] { run(); }) {}

Pacer::~Pacer() { stop(); }

std::shared_ptr<StreamState> Pacer::open(std::shared_ptr<Stream> stream) {
  auto state = std::make_shared<StreamState>();
  state->pacer = this;
  state->source = std::move(stream);
  state->last_due = state->last_sent = Clock::now();
  state->fetching = true;
  fetch(state);
  return state;
}

MHD_Response* Pacer::response(MHD_Connection* connection, std::shared_ptr<StreamState> state) {
  state->connection = connection;
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  state->fd = info != nullptr ? info->connect_fd : -1;
  auto* handle = new std::shared_ptr<StreamState>(std::move(state));
  MHD_Response* r =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, k_block, &Pacer::read, handle, &release);
  if (r == nullptr) delete handle;
  return r;
}

// The library is done with the response (sent, failed or never sent): the
// stream is dropped, and a fetch still running for it makes nothing more.
void Pacer::release(void* cls) {
  auto* handle = static_cast<std::shared_ptr<StreamState>*>(cls);
  {
    const std::lock_guard lock((*handle)->mutex);
    (*handle)->aborted = true;
  }
  delete handle;
}

ssize_t Pacer::read(void* cls, std::uint64_t, char* buf, std::size_t max) {
  auto& handle = *static_cast<std::shared_ptr<StreamState>*>(cls);
  return handle->pacer->read(handle, buf, max);
}

// On the library's event loop: what is due, or else park until something is.
ssize_t Pacer::read(const std::shared_ptr<StreamState>& state, char* buf, std::size_t max) {
  auto& s = *state;
  std::unique_lock lock(s.mutex);
  if (s.aborted) return MHD_CONTENT_READER_END_WITH_ERROR;
  const auto now = Clock::now();
  if (s.sent == s.outbox.size()) {
    s.outbox.clear();
    s.sent = 0;
  }
  while (!s.pending.empty() && s.pending.front().first <= now && s.outbox.size() < k_block) {
    s.outbox += s.pending.front().second;
    s.pending.pop_front();
  }
  if (s.sent < s.outbox.size()) {
    const std::size_t n = std::min(max, s.outbox.size() - s.sent);
    std::memcpy(buf, s.outbox.data() + s.sent, n);
    s.sent += n;
    s.last_sent = now;
    return static_cast<ssize_t>(n);
  }
  if (s.pending.empty() && s.done) return MHD_CONTENT_READER_END_OF_STREAM;
  const bool fetch_more = !s.done && !s.fetching && s.pending.size() < k_low_water;
  if (fetch_more) s.fetching = true;
  if (!park(state)) return MHD_CONTENT_READER_END_WITH_ERROR;  // the server stops
  // Suspended under the state's lock, which the pacer takes before it
  // resumes: it cannot resume a connection not yet suspended.
  s.suspended = true;
  MHD_suspend_connection(s.connection);
  lock.unlock();  // (a server without workers fetches right here)
  if (fetch_more) m_submit([this, state] { fetch(state); });
  return 0;
}

// On a worker thread: the stream's next pieces, each due its pause after the
// one before it.
void Pacer::fetch(const std::shared_ptr<StreamState>& state) {
  {
    const std::lock_guard lock(state->mutex);
    if (state->aborted) return;
  }
  std::vector<Stream::Piece> pieces;
  bool failed = false;
  try {
    pieces = state->source->next();
  } catch (const std::exception& e) {
    log::warn("http", "a streamed response ended early", {{"error", e.what()}});
    failed = true;
  }
  {
    const std::lock_guard lock(state->mutex);
    for (auto& piece : pieces) {
      state->last_due += piece.pause;
      state->pending.emplace_back(state->last_due, std::move(piece.bytes));
    }
    if (pieces.empty()) state->done = true;
    if (failed) state->aborted = true;
    state->fetching = false;
  }
  {
    const std::lock_guard lock(m_mutex);
    m_poked = true;
  }
  m_wake.notify_one();
}

bool Pacer::park(std::shared_ptr<StreamState> state) {
  {
    const std::lock_guard lock(m_mutex);
    if (m_stopping) return false;
    m_parked.push_back(std::move(state));
    m_poked = true;
  }
  m_wake.notify_one();
  return true;
}

// Resumes each parked connection once it has something to do: a piece due,
// more pieces made, the body complete, a keepalive, or its client gone.
void Pacer::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    const std::vector<std::shared_ptr<StreamState>> parked = m_parked;
    lock.unlock();
    std::vector<pollfd> sockets;
    sockets.reserve(parked.size());
    for (const auto& s : parked) sockets.push_back(pollfd{s->fd, POLLRDHUP, 0});
    if (!sockets.empty()) ::poll(sockets.data(), sockets.size(), 0);
    const auto now = Clock::now();
    auto wake_at = parked.empty() ? Clock::time_point::max() : now + k_hangup_poll;
    std::vector<StreamState*> resumed;
    for (std::size_t i = 0; i < parked.size(); ++i) {
      auto& s = *parked[i];
      const std::lock_guard state_lock(s.mutex);
      if (!s.suspended) {  // cannot happen (parked and suspended under one lock)
        resumed.push_back(&s);
        continue;
      }
      if (sockets[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) s.aborted = true;
      if (!s.aborted && now - s.last_sent >= k_keepalive_after) {
        s.outbox += s.source->keepalive();
        s.last_sent = now;
      }
      const bool due = !s.pending.empty() && s.pending.front().first <= now;
      if (s.aborted || s.sent < s.outbox.size() || due || (s.pending.empty() && s.done)) {
        s.suspended = false;
        MHD_resume_connection(s.connection);
        resumed.push_back(&s);
      } else if (!s.pending.empty()) {
        wake_at = std::min(wake_at, s.pending.front().first);
      }
    }
    lock.lock();
    // Each resumed stream's entry from this round only: once resumed, its
    // reader may already have parked it again (a new entry, further on).
    for (StreamState* s : resumed) {
      const auto it = std::find_if(m_parked.begin(), m_parked.end(),
                                   [s](const auto& entry) { return entry.get() == s; });
      if (it != m_parked.end()) m_parked.erase(it);
    }
    if (!m_poked) {
      if (wake_at == Clock::time_point::max())
        m_wake.wait(lock, [this] { return m_stopping || m_poked; });
      else
        m_wake.wait_until(lock, wake_at, [this] { return m_stopping || m_poked; });
    }
    m_poked = false;
  }
}

void Pacer::stop() {
  std::vector<std::shared_ptr<StreamState>> parked;
  {
    const std::lock_guard lock(m_mutex);
    if (m_stopping && !m_thread.joinable()) return;
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
  {
    const std::lock_guard lock(m_mutex);
    parked.swap(m_parked);
  }
  for (const auto& s : parked) {
    const std::lock_guard lock(s->mutex);
    s->aborted = true;
    if (s->suspended) {
      s->suspended = false;
      MHD_resume_connection(s->connection);
    }
  }
}

}  // namespace patternd::http
