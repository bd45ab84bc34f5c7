#pragma once
// The frame every report page shares: doctype, inline CSS, nothing fetched from anywhere.
#include <string>

namespace mnistnet {

// title is plain text (escaped here); body is HTML. refresh_seconds > 0 makes the browser
// reload the page that often (while training still writes it).
std::string html_page(const std::string& title, const std::string& body, int refresh_seconds = 0);

}  // namespace mnistnet
