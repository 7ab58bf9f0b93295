"""The claims documents an API process holds: the latest per article, bounded in bytes."""

from __future__ import annotations

from service.held_documents import HeldDocuments


def test_a_held_document_is_served_only_under_its_etag():
    held = HeldDocuments()
    assert held.etag_of("a") == "" and held.body("a", "") is None
    held.hold("a", "e1", b"one")
    assert held.etag_of("a") == "e1" and held.body("a", "e1") == b"one"
    assert held.body("a", "e2") is None
    held.hold("a", "e2", b"two")  # the article's document changed: the latest one is held
    assert held.etag_of("a") == "e2" and held.body("a", "e2") == b"two" and held.body("a", "e1") is None


def test_the_bound_lets_the_least_recently_used_go():
    held = HeldDocuments(max_bytes=10)
    held.hold("a", "ea", b"aaaa")
    held.hold("b", "eb", b"bbbb")
    assert held.body("a", "ea") == b"aaaa"  # a is now used more recently than b
    held.hold("c", "ec", b"cccc")
    assert held.etag_of("b") == "" and held.body("a", "ea") == b"aaaa" and held.body("c", "ec") == b"cccc"


def test_a_document_larger_than_the_bound_is_not_held():
    held = HeldDocuments(max_bytes=10)
    held.hold("a", "ea", b"x" * 11)
    assert held.etag_of("a") == ""
