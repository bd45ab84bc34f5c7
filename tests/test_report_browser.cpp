// The report as a browser shows it: headless Chromium renders a generated report.html to a
// screenshot, which must show the charts (the validation curve's orange) and the digit grid
// (the wrong digits' red), not a blank page. Skipped, with a warning, without Chromium.
#include <stb_image.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <set>

#include "cli_runner.h"
#include "report/report_writer.h"
#include "report_fixture.h"

using namespace mnistnet;
using namespace mnistnet::testing;

namespace {

bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

// Debian's chromium, headless, as root (hence no sandbox), touching nothing on the network.
int screenshot(const std::filesystem::path& page, const std::filesystem::path& png,
               const std::filesystem::path& scratch) {
  const std::string command =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir='" +
      (scratch / "profile").string() + "' --screenshot='" + png.string() +
      "' --window-size=1200,1600 'file://" + page.string() + "' >'" +
      (scratch / "chromium.log").string() + "' 2>&1";
  return std::system(command.c_str());
}

}  // namespace

TEST_CASE("Report renders in headless Chromium: charts and digits, not a blank page",
          "[report][browser]") {
  if (!have_chromium()) {
    WARN("chromium is not installed: skipping the browser test (apt-get install chromium)");
    return;
  }
  ReportRun r(5, 40, 200);
  Model model = tiny_report_model();
  write_run_report(r.run, model, "tiny", r.validation, r.predicted);

  const auto shot = r.dir.path / "shot.png";
  const int status = screenshot(r.run / "report.html", shot, r.dir.path);
  INFO(slurp(r.dir.path / "chromium.log"));
  REQUIRE(status == 0);
  const std::vector<uint8_t> png = read_bytes(shot);
  int width = 0, height = 0, channels = 0;
  uint8_t* pixels = stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &width, &height,
                                          &channels, 3);
  REQUIRE(pixels != nullptr);
  CHECK(width == 1200);
  CHECK(height == 1600);

  std::set<uint32_t> colours;
  size_t non_white = 0, orange = 0, red = 0;
  const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);
  for (size_t i = 0; i < count; ++i) {
    const int R = pixels[3 * i], G = pixels[3 * i + 1], B = pixels[3 * i + 2];
    colours.insert(static_cast<uint32_t>(R << 16 | G << 8 | B));
    non_white += R < 245 || G < 245 || B < 245;
    orange += R > 230 && G > 100 && G < 150 && B < 50;  // #ff7f0e, the validation curves
    red += R > 190 && R < 235 && G < 70 && B < 70;      // #d62728, the wrong digits
  }
  stbi_image_free(pixels);
  INFO(colours.size() << " colours, " << non_white << " non-white, " << orange << " orange, " << red
                      << " red pixels");
  CHECK(colours.size() > 200);
  CHECK(non_white > count / 10);
  CHECK(orange > 300);
  CHECK(red > 300);
}
