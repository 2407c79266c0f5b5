"""DynamoDB access for insights, on its own table: the reuse graph of each tenant, kept as one or more
generations ("live", built from the bus's events; "backfill-<id>", rebuilt by a backfill), and the
backfills' records. An edge is two items (in its source's partition, "out", and its target's, "in"), so a
node's neighbourhood is one Query; the outgoing item is indexed by relation and time (gsi1) for the reuse
figures. The live graph has a version that moves with every write that changes it, so a reader can keep
what it read until then. The only AWS user of the capability. Must never move an edge's time later: every
write keeps the earliest (a condition), so facts delivered twice or out of order build the same graph."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from maestro.core.dynamo_store import (
    TenantTable,
    across_tenants,
    batch_write,
    is_conditional_failure,
    to_item,
)
from maestro.insights.graph import RELATIONS, Edge, Node, ProjectFact, Relation

LIVE = "live"
MODELS_INDEX = "INS#MODELS"  # gsi1pk of every tenant's forecast model: what the daily retraining reads
MAX_KEY = 200  # node ids longer than this are keyed by their digest (DynamoDB keys hold at most 1 KB)
MAX_TIME = 10**15


def key_of(node: Node) -> str:
    text = node.id
    return text if len(text) <= MAX_KEY else f"{node.kind}:#{hashlib.sha256(text.encode()).hexdigest()}"


def _node(item: dict[str, Any], side: str) -> Node:
    return Node(item[f"{side}_kind"], item[f"{side}_key"])


def edge_of(item: dict[str, Any]) -> Edge:
    return Edge(_node(item, "source"), item["relation"], _node(item, "target"), int(item["at"]))


class InsightsStore(TenantTable):
    capability = "INS"

    # -- the graph -------------------------------------------------------------------------------------------
    def _earliest(self, pk: str, sk: str, at: int, fields: dict[str, Any]) -> bool:
        """Write the item unless it holds an earlier (or the same) time already; whether it was written."""
        names = {f"#f{i}": name for i, name in enumerate(["at", *fields])}
        values = {":f0": {"N": str(at)}} | {
            f":f{i}": to_item({"v": v})["v"] for i, v in enumerate(fields.values(), 1)
        }
        try:
            self._call(
                "update_item",
                Key=self.key(pk, sk),
                UpdateExpression="SET " + ", ".join(f"{n} = :{n[1:]}" for n in names),
                ConditionExpression="attribute_not_exists(pk) OR #f0 > :f0",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return True
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise

    def add_edges(self, graph: str, edges: Iterable[Edge]) -> int:
        """Each edge at its earliest time; the edges that were new or moved earlier."""
        changed = 0
        for e in edges:
            sides = {
                "source_kind": e.source.kind,
                "source_key": e.source.key,
                "relation": e.relation,
                "target_kind": e.target.kind,
                "target_key": e.target.key,
            }
            source, target = key_of(e.source), key_of(e.target)
            indexed = {
                **sides,
                "gsi1pk": self.k(graph, "REL", e.relation),
                "gsi1sk": f"{e.at:015d}#{source}#{target}",
            }
            changed += self._earliest(self.k(graph, "N", source), f"out#{e.relation}#{target}", e.at, indexed)
            self._earliest(self.k(graph, "N", target), f"in#{e.relation}#{source}", e.at, sides)
        self._changed(graph, changed)
        return changed

    def add_projects(self, graph: str, facts: Iterable[ProjectFact]) -> int:
        """A project's start (its earliest run) and, apart, the task of its earliest run naming one; how many
        of them were new or moved earlier."""
        changed = 0
        for f in facts:
            pk = self.k(graph, "PROJECTS")
            changed += self._earliest(
                pk, key_of(f.project), f.at, {"kind": f.project.kind, "key": f.project.key}
            )
            if f.task is not None:
                changed += self._earliest(pk, f"task#{key_of(f.project)}", f.at, {"task": f.task})
        self._changed(graph, changed)
        return changed

    def _changed(self, graph: str, changes: int) -> None:
        """The live graph's version moves on with every write that changed it (written after the change, so
        a reader that reads the version first and the graph after never keeps a graph older than it)."""
        if graph == LIVE and changes:
            self._call(
                "update_item",
                Key=self.key(self.k(LIVE, "VERSION"), "version"),
                UpdateExpression="ADD #v :one",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    def version(self) -> int:
        """The live graph's version: unchanged while the graph is (0 before its first write)."""
        item = self.item(self.k(LIVE, "VERSION"), "version")
        return int(item["version"]) if item else 0

    def around(self, graph: str, node: Node) -> list[Edge]:
        return [edge_of(i) for i in self.items(self.k(graph, "N", key_of(node)))]

    def edges(self, graph: str, relation: Relation, since: int = 0, until: int = MAX_TIME) -> Iterator[Edge]:
        """The relation's edges first made in [since, until), oldest first (one gsi1 Query)."""
        for item in self._query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": {"S": self.k(graph, "REL", relation)},
                ":a": {"S": f"{since:015d}"},
                ":b": {"S": f"{max(since, until - 1):015d}#~"},
            },
        ):
            yield edge_of(item)

    def projects(self, graph: str) -> dict[Node, tuple[int, str | None]]:
        started: dict[str, tuple[Node, int]] = {}
        tasks: dict[str, str] = {}
        for item in self.items(self.k(graph, "PROJECTS")):
            if item["sk"].startswith("task#"):
                tasks[item["sk"].removeprefix("task#")] = item["task"]
            else:
                started[item["sk"]] = (Node(item["kind"], item["key"]), int(item["at"]))
        return {node: (at, tasks.get(sk)) for sk, (node, at) in started.items()}

    def drop(self, graph: str) -> int:
        """Removes a generation that is not the live one (a finished backfill's); the items removed."""
        if graph == LIVE:
            raise ValueError("the live graph is never dropped")
        keys = []
        for relation in RELATIONS:
            for item in self._query(
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": {"S": self.k(graph, "REL", relation)}},
            ):
                keys.append((item["pk"], item["sk"]))
                e = edge_of(item)
                keys.append((self.k(graph, "N", key_of(e.target)), f"in#{e.relation}#{key_of(e.source)}"))
        keys += [(i["pk"], i["sk"]) for i in self.items(self.k(graph, "PROJECTS"))]
        self.requests += batch_write(
            self.ddb, self.table, [{"DeleteRequest": {"Key": self.key(pk, sk)}} for pk, sk in keys]
        )
        return len(keys)

    # -- backfills -------------------------------------------------------------------------------------------
    def put_backfill(self, record: dict[str, Any]) -> None:
        self._call(
            "put_item",
            Item=to_item(
                {
                    "pk": self.k("BACKFILLS"),
                    "sk": record["backfill_id"],
                    "record": json.dumps(record, sort_keys=True),
                }
            ),
        )

    def backfill(self, backfill_id: str) -> dict[str, Any] | None:
        item = self.item(self.k("BACKFILLS"), backfill_id)
        return json.loads(item["record"]) if item else None

    def backfills(self, limit: int) -> list[dict[str, Any]]:
        found = self.items(self.k("BACKFILLS"), forward=False, limit=limit)
        return [json.loads(i["record"]) for i in found]

    # -- the forecast model ----------------------------------------------------------------------------------
    def put_model(self, record: dict[str, Any]) -> None:
        """The tenant's latest forecast model (its versions are in the tenant's registry)."""
        item = {
            "pk": self.k("MODEL"),
            "sk": "latest",
            "gsi1pk": MODELS_INDEX,
            "gsi1sk": self.tenant,
            "success_days": record["success_days"],
            "definition": json.dumps(record["definition"]),
            "record": json.dumps(record),
        }
        self._call("put_item", Item=to_item(item))

    def model(self) -> dict[str, Any] | None:
        item = self.item(self.k("MODEL"), "latest")
        return json.loads(item["record"]) if item else None


def tenants_with_models(table: str) -> list[tuple[str, dict[str, Any]]]:
    """(tenant, the success definition it trained with) of every tenant that trained a forecast: the
    platform's own read across tenants, never a tenant's request."""
    return [
        (
            i["gsi1sk"]["S"],
            json.loads(i["definition"]["S"])
            if "definition" in i
            else {"success_days": int(i["success_days"]["N"])},
        )
        for i in across_tenants(table, MODELS_INDEX)
    ]
