#include "core/event.hpp"

namespace patternd::core {

std::string_view to_string(WorkflowStatus status) {
  switch (status) {
    case WorkflowStatus::completed:
      return "completed";
    case WorkflowStatus::failed:
      return "failed";
    case WorkflowStatus::cancelled:
      return "cancelled";
  }
  return "completed";
}

}  // namespace patternd::core
