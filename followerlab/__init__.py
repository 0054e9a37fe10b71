"""followerlab."""
