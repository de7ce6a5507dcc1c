"""The attack-infrastructure graph from observed flows (R-3.1-2): bots, C2 tiers, relays,
and bots shared between botnets.

Flows (``observed-data`` of ``network-traffic``) give a directed graph from initiator
to responder. A *bot* only initiates. A node that at least ``MIN_BOTS`` bots contact
is a tier-1 C2 server; a node contacted only by C2 servers of tier ≤ k (and by one of
tier k at least) is of tier k+1, and the lower-tier servers that reach it are relays.
Connected C2 servers with their bots form one botnet; a bot that talks to two botnets
is shared between them. The result is STIX: ``infrastructure`` objects (botnet,
command-and-control) with ``consists-of`` and ``controls`` relationships, derived from
the flows and labelled like them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.intel import stix
from mamori.intel.analytics.findings import Draft
from mamori.intel.labels import Labels
from mamori.intel.models import ObjectRow
from mamori.intel.visibility import Scope

MIN_BOTS = 3


@dataclass
class Node:
    sco_id: str
    label: str
    ins: set[str] = field(default_factory=set)
    outs: set[str] = field(default_factory=set)
    evidence: set[str] = field(default_factory=set)
    commands: int = 0


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)

    def node(self, sco_id: str, label: str) -> Node:
        return self.nodes.setdefault(sco_id, Node(sco_id, label))


def _bodies(session: Session, scope: Scope, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 900):
        for stix_id, body in session.execute(
                select(ObjectRow.stix_id, ObjectRow.body).where(
                    ObjectRow.stix_id.in_(wanted[start:start + 900]),
                    ObjectRow.latest.is_(True), scope.where(ObjectRow.label_set_id))):
            found[stix_id] = json.loads(body)
    return found


def _address_label(obj: dict[str, Any]) -> str:
    epoch = obj.get(stix.PSEUDONYM_EPOCH)
    prefix = f"pseudonym {epoch}: " if epoch else ""
    return prefix + str(obj.get("value", obj.get("id")))


def flow_graph(session: Session, scope: Scope) -> Graph:
    """The graph of every observed flow the scope may analyse."""
    observed = [json.loads(body) for body in session.scalars(
        select(ObjectRow.body).where(ObjectRow.stix_type == "observed-data",
                                     ObjectRow.latest.is_(True), ObjectRow.revoked.is_(False),
                                     scope.where(ObjectRow.label_set_id)))]
    refs = {ref for o in observed for ref in o.get("object_refs", [])
            if ref.startswith("network-traffic--")}
    traffic = _bodies(session, scope, refs)
    addresses = _bodies(session, scope, {str(t[side]) for t in traffic.values()
                                         for side in ("src_ref", "dst_ref") if t.get(side)})
    graph = Graph()
    for obs in observed:
        commands = int((obs.get("x_mamori_flow") or {}).get("command_flows", 0) or 0)
        for ref in obs.get("object_refs", []):
            flow = traffic.get(ref)
            if flow is None:
                continue
            src, dst = addresses.get(flow.get("src_ref", "")), addresses.get(
                flow.get("dst_ref", ""))
            if src is None or dst is None:
                continue
            a, b = graph.node(src["id"], _address_label(src)), graph.node(
                dst["id"], _address_label(dst))
            a.outs.add(b.sco_id)
            b.ins.add(a.sco_id)
            a.evidence.add(obs["id"])
            b.evidence.add(obs["id"])
            b.commands += commands
            a.commands += commands
    return graph


@dataclass
class Structure:
    bots: set[str]
    tiers: dict[str, int]
    relays: set[str]
    clusters: list[tuple[set[str], set[str]]]  # (C2 nodes, bots)


def analyse(graph: Graph, min_bots: int = MIN_BOTS) -> Structure:
    nodes = graph.nodes
    bots = {n for n, node in nodes.items() if node.outs and not node.ins}
    tiers = {n: 1 for n, node in nodes.items() if len(node.ins & bots) >= min_bots}
    level, frontier = 1, set(tiers)
    while frontier:
        upper = set()
        for n, node in nodes.items():
            if n in tiers or n in bots or not node.ins:
                continue
            if node.ins <= set(tiers) and node.ins & frontier:
                upper.add(n)
        level += 1
        for n in upper:
            tiers[n] = level
        frontier = upper
    relays = {n for n in tiers if any(tiers.get(o, 0) > tiers[n] for o in nodes[n].outs)}
    # botnets: connected C2 servers, with the bots that contact their tier-1 servers
    parent = {n: n for n in tiers}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for n in tiers:
        for o in nodes[n].outs:
            if o in tiers:
                parent[find(n)] = find(o)
    groups: dict[str, set[str]] = {}
    for n in tiers:
        groups.setdefault(find(n), set()).add(n)
    clusters = []
    for members in groups.values():
        first = {n for n in members if tiers[n] == 1}
        clusters.append((members, {b for b in bots if nodes[b].outs & first}))
    clusters.sort(key=lambda c: sorted(c[0]))
    return Structure(bots, tiers, relays, clusters)


def _rel(source: str, kind: str, target: str) -> dict[str, Any]:
    return {"type": "relationship", "spec_version": "2.1",
            "id": stix.mamori_id("relationship", source, kind, target),
            "relationship_type": kind, "source_ref": source, "target_ref": target}


def drafts(graph: Graph, structure: Structure) -> list[Draft]:
    nodes = graph.nodes
    result: list[Draft] = []
    botnet_of: dict[str, list[str]] = {}
    for members, bots in structure.clusters:
        key = sorted(members)
        botnet = stix.mamori_id("infrastructure", "botnet", *key)
        objects: list[dict[str, Any]] = [{
            "type": "infrastructure", "spec_version": "2.1", "id": botnet,
            "name": f"Botnet of {len(bots)} bots and {len(members)} C2 servers",
            "infrastructure_types": ["botnet"]}]
        objects += [_rel(botnet, "consists-of", b) for b in sorted(bots)]
        c2_of = {n: stix.mamori_id("infrastructure", "c2", n) for n in members}
        for n in sorted(members):
            tier = structure.tiers[n]
            kinds = ["command-and-control"] + (["anonymization"] if n in structure.relays
                                               else [])
            objects.append({"type": "infrastructure", "spec_version": "2.1", "id": c2_of[n],
                            "name": f"C2 tier {tier}: {nodes[n].label}",
                            "infrastructure_types": kinds, "x_mamori_tier": tier})
            objects.append(_rel(c2_of[n], "consists-of", n))
            if tier == 1:
                objects.append(_rel(c2_of[n], "controls", botnet))
            for o in sorted(nodes[n].outs):
                if o in members and structure.tiers[o] > tier:
                    objects.append(_rel(c2_of[o], "controls", c2_of[n]))
        for b in bots:
            botnet_of.setdefault(b, []).append(botnet)
        evidence = sorted({e for n in members for e in nodes[n].evidence})
        per_tier: dict[int, list[str]] = {}
        for n in members:
            per_tier.setdefault(structure.tiers[n], []).append(nodes[n].label)
        tiers = max(per_tier)
        commands = sum(nodes[n].commands for n in members)
        score = min(95, 50 + 10 * (tiers - 1) + min(20, 2 * len(bots)) + (10 if commands else 0))
        result.append(Draft(
            kind="c2_structure", key_parts=key, confidence=score,
            params={"tiers": tiers, "bots": len(bots),
                    "c2_per_tier": {str(t): len(v) for t, v in sorted(per_tier.items())},
                    "relays": sorted(nodes[n].label for n in members if n in structure.relays)},
            evidence={"observed_data": evidence, "botnet": botnet,
                      "c2": {str(t): sorted(v) for t, v in sorted(per_tier.items())},
                      "bots": sorted(nodes[b].label for b in bots),
                      "command_flows": commands},
            evidence_ids=evidence, labels=Labels(), title=(
                f"{tiers}-tier C2 structure: {len(members)} C2 servers, {len(bots)} bots"),
            objects=objects))
    shared = {b: nets for b, nets in botnet_of.items() if len(nets) > 1}
    if shared:
        nets = sorted({n for ns in shared.values() for n in ns})
        evidence = sorted({e for b in shared for e in nodes[b].evidence})
        result.append(Draft(
            kind="shared_bots", key_parts=nets, confidence=min(90, 50 + 5 * len(shared)),
            params={"bots": len(shared), "botnets": len(nets)},
            evidence={"bots": sorted(nodes[b].label for b in shared), "botnets": nets,
                      "observed_data": evidence},
            evidence_ids=evidence, labels=Labels(),
            title=f"{len(shared)} bots shared between {len(nets)} botnets"))
    return result
