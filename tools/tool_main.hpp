// Shared entry point for the command-line tools: bad input is a message on
// stderr and exit status 2, with nothing on stdout.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <new>

#include "convbench/conv_desc.hpp"

namespace convbench {

template <class Body>
int tool_main(CLI::App& app, int argc, char** argv, Body&& body) {
  const char* prog = app.get_name().c_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: error: %s\n", prog, e.what());
    return 2;
  }
  try {
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", prog, e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", prog);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", prog, e.what());
    return 1;
  }
}

}  // namespace convbench
