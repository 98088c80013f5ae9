"""RDF triples as plain Python values, written straight to Turtle and JSON-LD text.

rdflib builds an indexed in-memory graph and serialises it through general machinery: for a page of the
DCAT catalog (about 16,000 triples) that costs seconds. The catalog's triples need none of it: they are
made in a known order, grouped by subject, and written once. Here a term is

    str          an IRI
    Lit          a literal: lexical value, and a language tag or a datatype IRI
    Blank        a blank node, by a stable label (so every replica writes the same document)

and ``turtle_blocks`` / ``jsonld_nodes`` write triples grouped by subject (in first-seen order), as
fragments that join into one document (``turtle_document``, ``jsonld_document``). ``to_graph`` gives the
same triples as an rdflib ``Graph``, for checks and the reference build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import orjson
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class Vocab:
    """IRIs of one vocabulary as plain strings: ``Vocab(ns).title == ns + "title"`` (kept once made)."""

    def __init__(self, namespace: object) -> None:
        self._namespace = str(namespace)

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._namespace + name
        setattr(self, name, value)
        return value


class Lit(NamedTuple):
    value: str
    lang: str | None = None
    datatype: str | None = None


class Blank(NamedTuple):
    label: str


Term = str | Lit | Blank
Subject = str | Blank
Triple = tuple[Subject, str, Term]

# Turtle's PN_LOCAL, conservatively: names that need no escape and cannot end in a dot.
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_IRI_UNSAFE = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_STRING_UNSAFE = re.compile(r'[\x00-\x1f"\\\x7f]')
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Prefixes:
    """Namespace prefixes (``{prefix: namespace IRI}``), for compact names in both syntaxes."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self.namespaces = dict(namespaces)
        # Longest namespace first, so a namespace inside another is matched by the longer one.
        self._ordered = sorted(((ns, p) for p, ns in namespaces.items()), key=lambda item: -len(item[0]))
        self._turtle: dict[str, str] = {}
        self._compact: dict[str, str] = {}

    def _split(self, iri: str) -> tuple[str, str] | None:
        for namespace, prefix in self._ordered:
            if iri.startswith(namespace):
                local = iri[len(namespace):]
                if _LOCAL.match(local):
                    return prefix, local
        return None

    def turtle(self, iri: str) -> str:
        found = self._turtle.get(iri)
        if found is None:
            split = self._split(iri)
            found = f"{split[0]}:{split[1]}" if split else _iri_ref(iri)
            if len(self._turtle) < 4096:  # vocabulary terms repeat; instance IRIs are not kept
                self._turtle[iri] = found
        return found

    def compact(self, iri: str) -> str:
        """A JSON-LD key or type: ``prefix:local`` under a prefix of the context, else the IRI itself."""
        found = self._compact.get(iri)
        if found is None:
            split = self._split(iri)
            found = f"{split[0]}:{split[1]}" if split else iri
            if len(self._compact) < 4096:
                self._compact[iri] = found
        return found


def safe_iri(iri: str) -> str:
    """The IRI with the characters no IRI may hold raw (space, ``<>"{}|^`\\``, controls) percent-encoded, as
    every writer here (and ``to_graph``) writes it, so both syntaxes name the same node."""
    if _IRI_UNSAFE.search(iri) is None:
        return iri
    return _IRI_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), iri)


def _iri_ref(iri: str) -> str:
    return "<" + safe_iri(iri) + ">"


def _string(value: str) -> str:
    return '"' + _STRING_UNSAFE.sub(lambda m: _STRING_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04X}"), value) + '"'


def _turtle_term(term: Term, prefixes: Prefixes) -> str:
    if isinstance(term, str):
        return prefixes.turtle(term)
    if isinstance(term, Blank):
        return f"_:{term.label}"
    text = _string(term.value)
    if term.lang:
        return f"{text}@{term.lang}"
    if term.datatype:
        return f"{text}^^{prefixes.turtle(term.datatype)}"
    return text


def by_subject(triples: Iterable[Triple]) -> dict[Subject, dict[str, list[Term]]]:
    """Triples grouped by subject, then predicate, in first-seen order, each triple once."""
    grouped: dict[Subject, dict[str, list[Term]]] = {}
    for subject, predicate, obj in dict.fromkeys(triples):
        grouped.setdefault(subject, {}).setdefault(predicate, []).append(obj)
    return grouped


def turtle_blocks(triples: Iterable[Triple], prefixes: Prefixes) -> str:
    """Turtle statements, one block per subject (``s p o, o ; p o .``), for a document of ``prefixes``."""
    out: list[str] = []
    for subject, predicates in by_subject(triples).items():
        parts = []
        for predicate, objects in predicates.items():
            verb = "a" if predicate == RDF_TYPE else prefixes.turtle(predicate)
            parts.append(f"{verb} " + ", ".join(_turtle_term(o, prefixes) for o in objects))
        out.append(_turtle_term(subject, prefixes) + " " + " ;\n    ".join(parts) + " .\n")
    return "\n".join(out)


def turtle_document(prefixes: Prefixes, blocks: Iterable[str]) -> str:
    head = "".join(f"@prefix {p}: {_iri_ref(ns)} .\n" for p, ns in prefixes.namespaces.items())
    return head + "\n" + "\n".join(block for block in blocks if block)


def _jsonld_value(term: Term, prefixes: Prefixes) -> dict[str, str]:
    if isinstance(term, str):
        return {"@id": safe_iri(term)}
    if isinstance(term, Blank):
        return {"@id": f"_:{term.label}"}
    if term.lang:
        return {"@value": term.value, "@language": term.lang}
    if term.datatype:
        return {"@value": term.value, "@type": prefixes.compact(term.datatype)}
    return {"@value": term.value}


def jsonld_nodes(triples: Iterable[Triple], prefixes: Prefixes) -> str:
    """JSON-LD node objects (one per subject, comma-separated) for the ``@graph`` of a document whose context
    defines ``prefixes``. Subjects and IRI values are written whole, so they never depend on the context."""
    nodes: list[dict[str, object]] = []
    for subject, predicates in by_subject(triples).items():
        node: dict[str, object] = {"@id": safe_iri(subject) if isinstance(subject, str) else f"_:{subject.label}"}
        for predicate, objects in predicates.items():
            if predicate == RDF_TYPE and all(isinstance(o, str) for o in objects):
                node["@type"] = [prefixes.compact(str(o)) for o in objects]
            else:
                node[prefixes.compact(predicate)] = [_jsonld_value(o, prefixes) for o in objects]
        nodes.append(node)
    if not nodes:
        return ""
    try:  # orjson writes the compact JSON json.dumps(ensure_ascii=False) writes, some ten times faster
        return orjson.dumps(nodes).decode("utf-8")[1:-1]
    except TypeError:  # a lone surrogate in some text, which orjson refuses: json.dumps escapes it
        return json.dumps(nodes, ensure_ascii=False, separators=(",", ":"))[1:-1]


def jsonld_document(prefixes: Prefixes, fragments: Iterable[str]) -> str:
    context = json.dumps(prefixes.namespaces, ensure_ascii=False, sort_keys=True)
    return '{"@context": ' + context + ',\n"@graph": [\n' + ",\n".join(f for f in fragments if f) + "\n]}\n"


def to_rdflib(term: Term) -> URIRef | BNode | RdfLiteral:
    if isinstance(term, str):
        return URIRef(safe_iri(term))
    if isinstance(term, Blank):
        return BNode(term.label)
    return RdfLiteral(term.value, lang=term.lang, datatype=URIRef(term.datatype) if term.datatype else None)


def to_graph(triples: Iterable[Triple], prefixes: Prefixes) -> Graph:
    graph = Graph()
    for prefix, namespace in prefixes.namespaces.items():
        graph.bind(prefix, namespace)
    for subject, predicate, obj in triples:
        graph.add((to_rdflib(subject), URIRef(safe_iri(predicate)), to_rdflib(obj)))
    return graph
