"""The web layer's own plumbing: error pages with a reference number, typed input kept
across a failed save. Views of each domain live in their apps."""
