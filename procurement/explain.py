"""Each red flag in plain words, with where its methodology is documented."""

from __future__ import annotations

from dataclasses import dataclass

METHODOLOGY = "https://cardinal.readthedocs.io/en/latest/cli/indicators/R/{number}.html"
PROACT_METHODOLOGY = "https://www.procurementintegrity.org/methodology"
NOTE = ("A red flag is a reason to look more closely, not a finding of wrongdoing: each one has innocent "
        "explanations too (an emergency, a small market, a data-entry error).")


@dataclass(frozen=True)
class Indicator:
    code: str
    title: str
    process: str  # why a process is flagged
    organization: str = ""  # why a buyer, procuring entity or tenderer is flagged ({value} is its value)

    @property
    def methodology(self) -> str:
        if self.code.startswith("P"):
            return PROACT_METHODOLOGY
        return METHODOLOGY.format(number=self.code[1:])


INDICATORS = {i.code: i for i in [
    Indicator("R003", "Short submission period",
              "Bidders had fewer days to prepare a bid than the threshold (15 whole days unless set otherwise)."),
    Indicator("R018", "Single bid received", "Only one tenderer bid in an open or selective procedure."),
    Indicator("R024", "Price close to winning bid",
              "The second-lowest valid bid was unusually close to the winning bid (difference {value:.1%}).",
              "Won or came second in a process where the two lowest bids were unusually close."),
    Indicator("R025", "Excessive unsuccessful bids", "",
              "Bids very often but rarely wins: it won {value:.0%} of its valid bids, a low outlier among "
              "the most active tenderers."),
    Indicator("R028", "Identical bid prices", "Different tenderers bid exactly the same price.",
              "Bid exactly the same price as another tenderer in a process."),
    Indicator("R030", "Late bid won", "The winning bid was received after the submission deadline.",
              "Won with a bid received after the submission deadline."),
    Indicator("R035", "All except winning bid disqualified",
              "Every bid except the winner's was disqualified ({value:.0f} other tenderer(s)).",
              "Won a process in which every other bid was disqualified."),
    Indicator("R036", "Lowest bid disqualified", "The lowest bid was disqualified although price was the "
              "award criterion."),
    Indicator("R038", "Excessive disqualified bids", "",
              "An unusually high share of its bids were disqualified ({value:.0%}), a high outlier."),
    Indicator("R048", "Heterogeneous supplier", "",
              "Supplies an unusual variety of goods and services ({value:.0f} product divisions), a high outlier."),
    Indicator("R058", "Heavily discounted bid",
              "The winning bid was far below the second-lowest valid bid (the runner-up was {value:.0%} higher).",
              "Won a process with a bid far below the runner-up."),
    Indicator("P001", "Non-open procedure", "The contract was not procured through an open procedure."),
    Indicator("P002", "Unusual decision period",
              "The award came {value:.0f} days after the submission deadline: unusually fast or slow."),
    Indicator("P003", "Supplier's share of the buyer's spending",
              "", "One supplier received {value:.0%} of the buyer's awarded value."),
    Indicator("P004", "Cost overrun", "The contract's final value or payments exceed the award by {value:.0%}."),
    Indicator("P005", "Delivery delay", "Delivery or payment came {value:.0f} days after the planned date."),
    Indicator("P006", "Call for tenders not published",
              "A competitive procedure with no published call for tenders (no tender notice, no start of the "
              "submission period)."),
]}


def reason(code: str, value: float, organization: bool) -> str:
    found = INDICATORS.get(code)
    if found is None:
        return code
    text = found.organization if organization else found.process
    return (text or found.process).format(value=value)
