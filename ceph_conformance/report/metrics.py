"""Figures a check measured (throughput, sizes), carried in pytest's user_properties.

user_properties travel from xdist workers to the controller and into JUnit XML, so a metric is
a property named "metric:<name>[<unit>]" with a number for value, and a disruptive step's
record (OSDs and capacity before and after, recovery time, ledger verdict) a "step" property
holding JSON.
"""

import json
import re

_NAME = re.compile(r"^metric:(?P<name>[^\[]+)\[(?P<unit>[^\]]*)\]$")


def property_for(name, value, unit):
    return (f"metric:{name}[{unit}]", round(float(value), 3))


def parse(user_properties):
    out = []
    for key, value in user_properties or ():
        m = _NAME.match(str(key))
        if m:
            out.append({"name": m["name"], "unit": m["unit"], "value": value})
    return out


def steps(user_properties):
    return [json.loads(value) for value in values(user_properties, "step")]


def values(user_properties, key):
    """Every value a check recorded under key, in order."""
    return [value for k, value in user_properties or () if k == key]
