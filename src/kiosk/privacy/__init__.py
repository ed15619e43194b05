"""The privacy centre: one map of personal data that drives export, erasure, retention and
the privacy policy; consent; and the tools that prove what happened to a person's data."""
