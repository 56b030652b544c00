#include "node/rpc/router.h"

#include <algorithm>

namespace bas::node::rpc {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// Fills params when path fits pattern segment by segment.
bool Matches(std::string_view pattern, std::string_view path, std::vector<std::string>* params) {
  const auto want = Segments(pattern);
  const auto got = Segments(path);
  if (want.size() != got.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].starts_with('{')) {
      if (got[i].empty()) return false;
      found.emplace_back(got[i]);
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  *params = std::move(found);
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string_view> ApiRequest::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

ApiResponse JsonResponse(unsigned status, const nlohmann::ordered_json& body) {
  ApiResponse r;
  r.status = status;
  r.body = DumpJson(body);
  return r;
}

ApiResponse JsonResponse(unsigned status, JsonWriter&& body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body).Take();
  return r;
}

ApiResponse ErrorResponse(unsigned status, std::string_view code, std::string_view message) {
  return JsonResponse(status, {{"error", {{"code", code}, {"message", message}}}});
}

Router::Router(std::vector<Route> routes) : routes_(std::move(routes)) {}

Router::Match Router::Find(boost::beast::http::verb method, std::string_view path) const {
  Match m;
  m.status = 404;
  m.label = "none";
  for (const Route& r : routes_) {
    std::vector<std::string> params;
    if (!Matches(r.pattern, path, &params)) continue;
    if (r.method == method) {
      m.route = &r;
      m.status = 0;
      m.label = r.pattern;
      m.params = std::move(params);
      return m;
    }
    m.status = 405;
    m.label = r.pattern;
  }
  return m;
}

std::optional<Target> ParseTarget(std::string_view target) {
  if (!target.starts_with('/')) return std::nullopt;
  Target t;
  const size_t q = target.find('?');
  auto path = PercentDecode(target.substr(0, q), false);
  if (!path) return std::nullopt;
  t.path = std::move(*path);
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    t.query.insert_or_assign(std::move(*name), std::move(*value));
  }
  return t;
}

}  // namespace bas::node::rpc
