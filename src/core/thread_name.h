#pragma once
// Names the calling thread (visible in top -H, perf and gdb). At most 15 characters are kept.

#include <pthread.h>

#include <string>

namespace herald {

inline void set_thread_name(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace herald
