#include "node/p2p/block_sync.h"

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "node/p2p/callback.h"
#include "node/p2p/frame.h"

namespace bas::node::p2p {
namespace {

namespace net = boost::asio;

// Room left in a BlocksResponse frame for its request id and each block's field header.
constexpr size_t kResponseOverheadBytes = 16;
constexpr size_t kBlockFieldOverheadBytes = 11;

}  // namespace

BlockSync::BlockSync(net::io_context& ioc, const TransportConfig& config, BlockSource* blocks,
                     TransportSnapshots& snapshots, const std::string& log_name)
    : ioc_(ioc), config_(config), blocks_(blocks), snapshots_(snapshots), log_name_(log_name) {}

void BlockSync::ServeStatus(Connection& conn, const bas::v1::StatusRequest& req) {
  bas::v1::P2pMessage out;
  auto* res = out.mutable_status_response();
  res->set_request_id(req.request_id());
  if (blocks_ != nullptr) {
    try {
      res->set_height(blocks_->Height());
    } catch (const std::exception& e) {
      spdlog::error("p2p {}: BlockSource::Height threw: {}", log_name_, e.what());
      return;
    }
  }
  auto frame = EncodeFrame(out, config_.max_frame_bytes);
  if (frame.ok()) conn.Enqueue(std::make_shared<const std::string>(std::move(*frame)));
}

void BlockSync::ServeBlocks(Connection& conn, const bas::v1::BlocksRequest& req) {
  bas::v1::P2pMessage out;
  auto* res = out.mutable_blocks_response();
  res->set_request_id(req.request_id());
  if (blocks_ != nullptr && req.from_height() <= req.to_height()) {
    // The count is capped first, so a request for [1, 2^64-1] costs no more than any other.
    const uint64_t last = req.from_height() + std::min(req.to_height() - req.from_height(),
                                                       config_.max_blocks_per_response - 1);
    size_t size = kResponseOverheadBytes;
    try {
      for (uint64_t h = req.from_height();; ++h) {
        auto block = blocks_->BlockAt(h);
        if (!block) break;
        const size_t block_size = block->ByteSizeLong() + kBlockFieldOverheadBytes;
        if (size + block_size > config_.max_frame_bytes) break;
        size += block_size;
        *res->add_blocks() = std::move(*block);
        if (h == last) break;  // no wrap past 2^64-1
      }
    } catch (const std::exception& e) {
      spdlog::error("p2p {}: BlockSource::BlockAt threw: {}", log_name_, e.what());
    }
  }
  auto frame = EncodeFrame(out, config_.max_frame_bytes);
  if (!frame.ok()) {
    spdlog::error("p2p {}: blocks response: {}", log_name_, frame.error().message);
    return;
  }
  conn.Enqueue(std::make_shared<const std::string>(std::move(*frame)));
}

void BlockSync::Request(Connection* conn, const PeerKey& peer, bas::v1::P2pMessage msg,
                        Completion done) {
  if (stopped_) {
    InvokeCallback("request completion", done,
                   Result<bas::v1::P2pMessage>(Error{"P2P_STOPPED", "the transport is stopping"}));
    return;
  }
  if (conn == nullptr) {
    InvokeCallback("request completion", done,
                   Result<bas::v1::P2pMessage>(
                       Error{"P2P_NOT_CONNECTED", "no connection to " + ShortKey(peer)}));
    return;
  }
  const uint64_t id = next_request_id_++;
  bas::v1::P2pMessage::KindCase response_kind;
  if (msg.has_status_request()) {
    msg.mutable_status_request()->set_request_id(id);
    response_kind = bas::v1::P2pMessage::kStatusResponse;
  } else {
    msg.mutable_blocks_request()->set_request_id(id);
    response_kind = bas::v1::P2pMessage::kBlocksResponse;
  }
  auto frame = EncodeFrame(msg, config_.max_frame_bytes);
  if (!frame.ok() || !conn->Enqueue(std::make_shared<const std::string>(std::move(*frame)))) {
    InvokeCallback("request completion", done,
                   Result<bas::v1::P2pMessage>(
                       Error{"P2P_SEND_QUEUE_FULL", "the request could not be queued"}));
    return;
  }
  PendingRequest req{peer, response_kind, std::move(done),
                     std::make_unique<net::steady_timer>(ioc_, config_.request_timeout)};
  req.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    auto callback = std::move(it->second.done);
    pending_.erase(it);
    InvokeCallback(
        "request completion", callback,
        Result<bas::v1::P2pMessage>(Error{"P2P_REQUEST_TIMEOUT", "no response in time"}));
  });
  pending_.emplace(id, std::move(req));
}

void BlockSync::Complete(const PeerKey& from, bas::v1::P2pMessage&& msg, uint64_t request_id) {
  auto it = pending_.find(request_id);
  if (it == pending_.end() || it->second.peer != from ||
      it->second.response_kind != msg.kind_case()) {
    snapshots_.Count([](TransportCounters& c) { ++c.unsolicited_responses; });
    return;
  }
  PendingRequest req = std::move(it->second);
  pending_.erase(it);
  req.timer->cancel();
  InvokeCallback("request completion", req.done, Result<bas::v1::P2pMessage>(std::move(msg)));
}

void BlockSync::FailRequests(const std::optional<PeerKey>& peer, const Error& error) {
  std::vector<Completion> failed;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!peer || it->second.peer == *peer) {
      it->second.timer->cancel();
      failed.push_back(std::move(it->second.done));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : failed) {
    InvokeCallback("request completion", done, Result<bas::v1::P2pMessage>(error));
  }
}

void BlockSync::Stop() {
  stopped_ = true;
  FailRequests(std::nullopt, Error{"P2P_STOPPED", "the transport stopped"});
}

}  // namespace bas::node::p2p
