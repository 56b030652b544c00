// Internal to node/p2p. Block sync over the peer connections (docs/p2p.md, "Block sync"): this
// node's requests to peers, each waiting for its response, its timeout or its peer's
// disconnect; and the answers to peers' requests, read from the owner's BlockSource. Which
// connection a request goes out on, and which frames are requests or responses, is the peer
// set's business.
//
// Threading: io thread only, like the connections; completions run there (InvokeCallback).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio.hpp>

#include "bas/v1/p2p.pb.h"
#include "crypto/result.h"
#include "node/p2p/connection.h"
#include "node/p2p/snapshots.h"
#include "node/p2p/transport.h"

namespace bas::node::p2p {

class BlockSync {
 public:
  // Called once with the response (a P2pMessage holding a status_response or blocks_response),
  // or an error (see Transport::RequestStatus for the codes).
  using Completion = std::function<void(Result<bas::v1::P2pMessage>)>;

  // blocks may be null (requests are then answered with height 0 and no blocks). Every
  // referent is owned by the transport and outlives this.
  BlockSync(boost::asio::io_context& ioc, const TransportConfig& config, BlockSource* blocks,
            TransportSnapshots& snapshots, const std::string& log_name);

  // Answers a peer's status request on conn with our height. Sends nothing if BlockSource
  // throws (logged).
  void ServeStatus(Connection& conn, const bas::v1::StatusRequest& req);
  // Answers a peer's blocks request on conn with the longest prefix of the range that is stored,
  // at most max_blocks_per_response blocks and within max_frame_bytes.
  void ServeBlocks(Connection& conn, const bas::v1::BlocksRequest& req);

  // Sends msg (a status or blocks request; its request id is set here) on conn, the peer's
  // authenticated connection, or null when it has none. done gets "P2P_STOPPED" after Stop,
  // "P2P_NOT_CONNECTED" when conn is null, "P2P_SEND_QUEUE_FULL" when the frame is not queued,
  // "P2P_REQUEST_TIMEOUT" after request_timeout, "P2P_PEER_GONE" through FailRequests, or the
  // response through Complete.
  void Request(Connection* conn, const PeerKey& peer, bas::v1::P2pMessage msg, Completion done);

  // A response from peer `from` to request_id: completes that request if it was sent to `from`
  // and msg is the kind it waits for; otherwise counts it in unsolicited_responses.
  void Complete(const PeerKey& from, bas::v1::P2pMessage&& msg, uint64_t request_id);

  // Fails with error every pending request to peer, or all of them when peer is nullopt.
  void FailRequests(const std::optional<PeerKey>& peer, const Error& error);

  // Fails every pending request with P2P_STOPPED; later requests fail the same way.
  void Stop();

 private:
  struct PendingRequest {
    PeerKey peer;
    bas::v1::P2pMessage::KindCase response_kind;
    Completion done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  boost::asio::io_context& ioc_;
  const TransportConfig& config_;
  BlockSource* const blocks_;
  TransportSnapshots& snapshots_;
  const std::string& log_name_;
  bool stopped_ = false;
  std::unordered_map<uint64_t, PendingRequest> pending_;
  uint64_t next_request_id_ = 1;
};

}  // namespace bas::node::p2p
