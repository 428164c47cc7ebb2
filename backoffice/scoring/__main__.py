"""``python -m backoffice.scoring [--jsonl] FILE`` — same as ``backoffice score``."""

from .cli import score

if __name__ == "__main__":
    score(prog_name="python -m backoffice.scoring")
