"""Temporal plumbing shared by every process of ours that talks to Temporal.

How to reach it (`connection`: the profile file and the variables Temporal's own tools read),
the one client factory and the calls other services make (`client`).
"""
