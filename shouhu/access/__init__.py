"""The access rules, in one place (DESIGN.md "Access and data protection").

A user's *grants* say which children they may see and which field classes of those children:

- a registry role (child director, supervisor, official) in an organisation: children living
  inside the organisation's jurisdiction;
- a teacher: children enrolled in the school;
- an assignment to the user (case worker, counsellor, matched volunteer): that child;
- an assignment, accepted referral or transfer to an organisation: that child, for the
  organisation's social workers and counsellors.

Everything else is invisible, and invisible looks exactly like missing (404). Field classes
above a grant's ceiling are masked; officials may reach past theirs with a logged reason
("break glass").

The rules are kept by domain (`core`: grants, scopes, the child and its fields; `cases`;
`reunion`; `screening`; `programmes`; `aid`; `surrogates`: who arranges a surrogate parent;
`volunteers`: the gate before a volunteer reaches a child; `linkage`: reviewing pairs of
records across jurisdictions and sharing a file across a link; `handoff`: who sends and
receives a child's file between deployments); callers import the package,
`from shouhu import access`, and ask it (each module's `__all__` is the package's).
"""

from shouhu.access.aid import *  # noqa: F403
from shouhu.access.cases import *  # noqa: F403
from shouhu.access.core import *  # noqa: F403
from shouhu.access.handoff import *  # noqa: F403
from shouhu.access.linkage import *  # noqa: F403
from shouhu.access.programmes import *  # noqa: F403
from shouhu.access.reunion import *  # noqa: F403
from shouhu.access.screening import *  # noqa: F403
from shouhu.access.surrogates import *  # noqa: F403
from shouhu.access.volunteers import *  # noqa: F403
