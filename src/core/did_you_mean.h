#pragma once
// "did you mean ...?" for a mistyped command, option, config key or value: the nearest
// candidate by edit distance (a swap of two neighbours counts as one edit, as in "trian"),
// when it is near enough to be a typo rather than a different word.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mnistnet {

// Edits (insert, delete, substitute, swap neighbours) between a and b, ignoring case.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` if it is within about one edit in four characters (at least
// one), the first such on a tie; nothing when none is that near or `word` is a candidate.
std::optional<std::string> nearest_word(std::string_view word,
                                        const std::vector<std::string>& candidates);

// "; did you mean \"train\"?" (quoted) or "; did you mean --config?" (quote = false); "" when
// nothing is near.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates,
                         bool quote = true);

}  // namespace mnistnet
