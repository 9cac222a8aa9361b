// The C functions of the c10d shim (distributed.cpp) and of libconvtorch_cuda catch C++
// exceptions and return them as a malloc'd message (NULL: success), which the Rust side turns
// into a typed error and frees.
#pragma once
#include <cstring>
#include <exception>
#include <string>

template <typename Body>
char* convtorch_guarded(const char* what, Body body) {
  try {
    body();
    return nullptr;
  } catch (const std::exception& e) {
    return strdup((std::string(what) + ": " + e.what()).c_str());
  } catch (...) {
    return strdup((std::string(what) + ": unknown C++ exception").c_str());
  }
}
