#include "node/rpc/router.h"

#include <gtest/gtest.h>

namespace bas::node::rpc {
namespace {

using boost::beast::http::verb;

Router TestRouter() {
  auto named = [](std::string name) -> Handler {
    return [name](const ApiRequest&) {
      ApiResponse r;
      r.body = name;
      return r;
    };
  };
  return Router({{verb::get, "/v1/status", named("status")},
                 {verb::post, "/v1/txs", named("post-txs")},
                 {verb::get, "/v1/txs/{id}", named("get-tx")},
                 {verb::get, "/v1/proposals/{id}/votes", named("votes")}});
}

TEST(RouterTest, FindsRoutesAndPlaceholders) {
  const Router router = TestRouter();
  struct Case {
    verb method;
    std::string path;
    unsigned status;  // 0: found
    std::string label;
    std::vector<std::string> params;
  };
  const std::vector<Case> cases = {
      {verb::get, "/v1/status", 0, "/v1/status", {}},
      {verb::post, "/v1/txs", 0, "/v1/txs", {}},
      {verb::get, "/v1/txs/abc", 0, "/v1/txs/{id}", {"abc"}},
      {verb::get, "/v1/proposals/p1/votes", 0, "/v1/proposals/{id}/votes", {"p1"}},
      {verb::delete_, "/v1/status", 405, "/v1/status", {}},
      {verb::get, "/v1/txs", 405, "/v1/txs", {}},
      {verb::get, "/v1/txs/", 404, "none", {}},  // an empty placeholder does not match
      {verb::get, "/v1/status/", 404, "none", {}},
      {verb::get, "/v1/proposals/p1", 404, "none", {}},
      {verb::get, "/", 404, "none", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    const Router::Match m = router.Find(c.method, c.path);
    EXPECT_EQ(m.route == nullptr ? m.status : 0u, c.status);
    EXPECT_EQ(m.label, c.label);
    if (m.route != nullptr) {
      EXPECT_EQ(m.params, c.params);
    }
  }
}

TEST(RouterTest, ParsesTargets) {
  auto t = ParseTarget("/v1/proposals?coalition=bas%2Ddc&status=ACTIVE&all&x=a+b&status=PASSED");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/v1/proposals");
  EXPECT_EQ(t->query.at("coalition"), "bas-dc");
  EXPECT_EQ(t->query.at("status"), "PASSED");  // the last value wins
  EXPECT_EQ(t->query.at("all"), "");
  EXPECT_EQ(t->query.at("x"), "a b");

  for (const char* bad : {"v1/status", "/v1/%zz", "/v1/status?a=%4", "/v1/%", ""}) {
    EXPECT_FALSE(ParseTarget(bad).has_value()) << bad;
  }
}

TEST(RouterTest, ErrorBodiesCarryTheCode) {
  const ApiResponse r = ErrorResponse(422, "BAD_NONCE", "nonce 0, account's next is 1");
  EXPECT_EQ(r.status, 422u);
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "BAD_NONCE");
  EXPECT_EQ(body["error"]["message"], "nonce 0, account's next is 1");
}

}  // namespace
}  // namespace bas::node::rpc
