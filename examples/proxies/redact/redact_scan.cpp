#include "redact_scan.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>

namespace acp::examples {

namespace {

bool passed(redact_deadline deadline) {
  return deadline != no_deadline && std::chrono::steady_clock::now() >= deadline;
}

std::size_t offset(std::string_view text, const re2::StringPiece& piece) {
  return static_cast<std::size_t>(piece.data() - text.data());
}

// Every match of `r.re` in `text`, one forward pass: each search starts where the last match
// ended, and a leftmost-first RE2 search reads no further than the end of its match.
bool find_regex(const redactor::scanner::rule& r, std::string_view text, redact_deadline deadline,
                std::vector<redactor::hit>& out) {
  std::array<re2::StringPiece, 2> m;
  const int n = r.group + 1;
  const re2::StringPiece all(text.data(), text.size());
  std::size_t count = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    if (!r.re->Match(all, pos, text.size(), RE2::UNANCHORED, m.data(), n)) break;
    const std::size_t begin = offset(text, m[0]), end = begin + m[0].size();
    const auto& g = m[static_cast<std::size_t>(r.group)];
    if (g.data() && !g.empty()) {
      const std::size_t gb = offset(text, g), ge = gb + g.size();
      if (ge == text.size() || r.not_followed_by.find(text[ge]) == std::string_view::npos)
        out.push_back({gb, ge, r.id});
    }
    pos = end > begin ? end : begin + 1;
    if (++count % 256 == 0 && passed(deadline)) return false;
  }
  return true;
}

// `-----BEGIN … PRIVATE KEY-----` up to the end of its END line, or to the end of the text when
// there is none (a read cut short). The END line is searched once forward and the answer reused
// for every later header, so a flood of headers without END costs one pass.
bool find_private_key_blocks(const redactor::scanner::rule& r, std::string_view text, redact_deadline deadline,
                             std::vector<redactor::hit>& out) {
  static const RE2 end_line(R"(-----END [A-Z0-9 ]*PRIVATE KEY-----)", rule_options());
  const re2::StringPiece all(text.data(), text.size());
  std::size_t end_begin = 0, end_end = 0; // the END line found last
  bool end_known = false, no_end = false;
  for (std::size_t pos = 0; pos < text.size();) {
    re2::StringPiece m;
    if (!r.re->Match(all, pos, text.size(), RE2::UNANCHORED, &m, 1)) break;
    const std::size_t begin = offset(text, m), header_end = begin + m.size();
    std::size_t end = text.size();
    if (!no_end) {
      if (!end_known || end_begin < header_end) {
        re2::StringPiece e;
        if (end_line.Match(all, header_end, text.size(), RE2::UNANCHORED, &e, 1)) {
          end_begin = offset(text, e);
          end_end = end_begin + e.size();
          end_known = true;
        } else {
          no_end = true; // none after this header: none after any later one either
        }
      }
      if (!no_end) end = end_end;
    }
    out.push_back({begin, end, r.id});
    pos = end;
    if (passed(deadline)) return false;
  }
  return true;
}

bool is_base64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

std::string_view trimmed(std::string_view line) {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// Upper case, lower case and digits: a random line, not a rule of `=` or a word.
bool mixed(std::string_view line) {
  bool upper = false, lower = false, digit = false;
  for (const char c : line) {
    upper = upper || (c >= 'A' && c <= 'Z');
    lower = lower || (c >= 'a' && c <= 'z');
    digit = digit || (c >= '0' && c <= '9');
  }
  return upper && lower && digit;
}

using range = std::pair<std::size_t, std::size_t>;

// A key's base64 body without its BEGIN line (a read starting at line 2, output cut at the front):
// a run of base64-only lines that ends with a `-----END … PRIVATE KEY-----` line, or has three or
// more full-width lines (60 to 76 characters of mixed case and digits, as PEM's 64 and OpenSSH's
// 70). Public material is not a secret: a run inside a public block (CERTIFICATE, PUBLIC KEY) or
// ending with a public END line is left alone, and its range goes to `public_ranges` so that the
// high-entropy rule leaves it alone too.
void find_private_key_bodies(std::size_t id, std::string_view text, std::vector<redactor::hit>& out,
                             std::vector<range>& public_ranges) {
  std::size_t run_begin = 0, run_end = 0, full_lines = 0, public_begin = 0;
  bool in_run = false, in_public_block = false;
  auto close_run = [&](bool is_private_end, bool is_public_end, std::size_t end) {
    if (in_run && !in_public_block) {
      if (is_public_end)
        public_ranges.emplace_back(run_begin, end);
      else if (is_private_end || full_lines >= 3)
        out.push_back({run_begin, end, id});
    }
    in_run = false;
    full_lines = 0;
  };
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t nl = std::min(text.size(), text.find('\n', pos));
    const std::string_view line = trimmed(text.substr(pos, nl - pos));
    const auto line_begin = static_cast<std::size_t>(line.data() - text.data());
    const bool body = !line.empty() && line.size() <= 76 &&
                      std::all_of(line.begin(), line.end(), [](char c) { return is_base64(c); });
    if (body) {
      if (!in_run) run_begin = line_begin;
      in_run = true;
      run_end = line_begin + line.size();
      if (line.size() >= 60 && mixed(line)) ++full_lines;
    } else if (line.starts_with("-----END ")) {
      const bool is_private = line.find("PRIVATE KEY-----") != std::string_view::npos;
      close_run(is_private, !is_private, line_begin + line.size());
      if (in_public_block) public_ranges.emplace_back(public_begin, line_begin + line.size());
      in_public_block = false;
    } else {
      close_run(false, false, run_end);
      if (line.starts_with("-----BEGIN ") && line.find("PRIVATE KEY") == std::string_view::npos) {
        in_public_block = true;
        public_begin = line_begin;
      }
    }
    if (nl == text.size()) break;
    pos = nl + 1;
  }
  close_run(false, false, run_end);
  if (in_public_block) public_ranges.emplace_back(public_begin, text.size()); // a public block cut short
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void find_random_runs(std::size_t id, std::string_view text, const std::vector<range>& public_ranges,
                      std::vector<redactor::hit>& out) {
  auto next_public = public_ranges.begin(); // in text order
  for (std::size_t i = 0; i < text.size();) {
    if (!is_token_char(text[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && is_token_char(text[j])) ++j;
    while (next_public != public_ranges.end() && next_public->second <= i) ++next_public;
    const bool in_public = next_public != public_ranges.end() && next_public->first <= i;
    if (!in_public && j - i >= 32 && looks_random(text.substr(i, j - i))) out.push_back({i, j, id});
    i = j;
  }
}

bool find_user_regex(const redactor::scanner::rule& r, std::string_view text, redact_deadline deadline,
                     std::vector<redactor::hit>& out) {
  std::size_t work = 0;
  for (std::size_t line = 0; line < text.size();) {
    const std::size_t line_end = std::min(text.size(), text.find('\n', line));
    const re2::StringPiece piece(text.data() + line, line_end - line);
    for (std::size_t pos = 0; pos <= piece.size();) {
      re2::StringPiece m;
      if (!r.re->Match(piece, pos, piece.size(), RE2::UNANCHORED, &m, 1)) break;
      const std::size_t begin = offset(text, m), end = begin + m.size();
      if (end > begin) out.push_back({begin, end, r.id});
      pos = (end > begin ? end : begin + 1) - line;
      if (++work % 64 == 0 && passed(deadline)) return false;
    }
    if (++work % 64 == 0 && passed(deadline)) return false;
    line = line_end + 1;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

} // namespace

RE2::Options rule_options() {
  RE2::Options o;
  o.set_log_errors(false);
  return o;
}

bool looks_random(std::string_view run) {
  if (run.size() < 32) return false;
  std::array<std::size_t, 256> counts{};
  std::size_t separators = 0, lower = 0, upper = 0, digits = 0, hex = 0;
  for (const char ch : run) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '_' || c == '-') {
      ++separators;
      continue;
    }
    ++counts[c];
    lower += c >= 'a' && c <= 'z';
    upper += c >= 'A' && c <= 'Z';
    digits += c >= '0' && c <= '9';
    hex += std::isxdigit(c) != 0;
  }
  // Words joined by separators (snake_case, kebab-case) are names, not secrets.
  if (separators * 8 > run.size()) return false;
  const std::size_t n = run.size() - separators;
  if (n < 24 || hex == n) return false; // hex only: git SHAs, hashes, UUIDs
  if ((lower > 0) + (upper > 0) + (digits > 0) < 2) return false;
  double entropy = 0;
  for (const auto c : counts)
    if (c) {
      const double p = static_cast<double>(c) / static_cast<double>(n);
      entropy -= p * std::log2(p);
    }
  if (entropy < 3.5) return false;
  // Characters in word-like stretches (`Word`, `word`, `WORD`, three letters or more): most of a
  // camelCase name, a small part of a random token.
  std::size_t wordy = 0;
  std::string letters; // the run without separators
  letters.reserve(n);
  for (const char c : run)
    if (c != '_' && c != '-') letters += c;
  for (std::size_t i = 0; i < letters.size();) {
    std::size_t u = i;
    while (u < letters.size() && std::isupper(static_cast<unsigned char>(letters[u]))) ++u;
    std::size_t l = u;
    while (l < letters.size() && std::islower(static_cast<unsigned char>(letters[l]))) ++l;
    const std::size_t uppers = u - i, lowers = l - u;
    if (lowers >= 3) {
      wordy += lowers + (uppers > 0 ? 1 : 0) + (uppers >= 4 ? uppers - 1 : 0);
    } else if (uppers >= 3) {
      wordy += uppers;
    }
    i = l > i ? l : i + 1;
  }
  const double word = static_cast<double>(wordy) / static_cast<double>(n);
  const double digit = static_cast<double>(digits) / static_cast<double>(n);
  return word < 0.6 || (digit >= 0.15 && word < 0.8);
}

bool redactor::scanner::scan(std::string_view text, redact_deadline deadline, bool entropy,
                             std::vector<hit>& out) const {
  std::vector<range> public_ranges; // certificates and public keys, from the key body rule
  for (const auto& r : rules) {
    switch (r.how) {
    case kind::regex:
      if (!find_regex(r, text, deadline, out)) return false;
      break;
    case kind::private_key_block:
      if (!find_private_key_blocks(r, text, deadline, out)) return false;
      break;
    case kind::private_key_body:
      find_private_key_bodies(r.id, text, out, public_ranges);
      break;
    case kind::entropy:
      if (entropy) {
        std::sort(public_ranges.begin(), public_ranges.end());
        find_random_runs(r.id, text, public_ranges, out);
      }
      break;
    case kind::user_regex:
      if (!find_user_regex(r, text, deadline, out)) return false;
      break;
    }
    if (passed(deadline)) return false;
  }
  for (const auto& l : literals) {
    for (std::size_t from = 0; from < text.size();) {
      const void* at = ::memmem(text.data() + from, text.size() - from, l.value.data(), l.value.size());
      if (!at) break;
      const auto pos = static_cast<std::size_t>(static_cast<const char*>(at) - text.data());
      out.push_back({pos, pos + l.value.size(), l.id});
      from = pos + l.value.size();
    }
  }
  return !passed(deadline);
}

bool redactor::scanner::find(std::string_view text, redact_deadline deadline, bool entropy,
                             std::vector<hit>& out) const {
  if (!scan(text, deadline, entropy, out)) return false;
  // Percent-encoded secrets (`ghp%5F…`, `api_key%3D…` in a URL): scan the decoded text too and
  // map what is found back onto the encoded bytes.
  std::string decoded;
  std::vector<std::size_t> origin; // origin[i]: where decoded[i] starts in `text`
  bool any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int hi = 0, lo = 0;
    if (text[i] == '%' && i + 2 < text.size() && (hi = hex_value(text[i + 1])) >= 0 &&
        (lo = hex_value(text[i + 2])) >= 0) {
      if (!any) {
        decoded.reserve(text.size());
        origin.reserve(text.size() + 1);
        for (std::size_t k = 0; k < i; ++k) {
          decoded += text[k];
          origin.push_back(k);
        }
        any = true;
      }
      decoded += static_cast<char>(hi * 16 + lo);
      origin.push_back(i);
      i += 2;
    } else if (any) {
      decoded += text[i];
      origin.push_back(i);
    }
  }
  if (!any) return true;
  origin.push_back(text.size());
  std::vector<hit> inner;
  if (!scan(decoded, deadline, entropy, inner)) return false;
  for (const auto& h : inner) out.push_back({origin[h.begin], origin[h.end], h.rule});
  return true;
}

} // namespace acp::examples
