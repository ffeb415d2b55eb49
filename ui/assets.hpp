// The files of ui/static/ (the pages of the web UI, their JavaScript and CSS), compiled into the
// library by ui/assets.cmake: an application linked against an installed Ember has no source tree
// to read them from.
#pragma once

#include <string_view>

namespace ember::ui {

struct asset {
  std::string_view bytes;
  std::string_view content_type;
};

// A file of ui/static/ compiled into the library, by its path relative to ui/static
// ("jobs.html", "js/ember-ui.js"); nullptr when there is none.
const asset* find_asset(std::string_view name);

} // namespace ember::ui
