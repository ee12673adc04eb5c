"""A novel's plain text (janeaustenr's lines) as Markdown: VOLUME lines become parts (#), CHAPTER lines
chapters (## under volumes, else #, unnumbered with --unnumbered); everything else is left as it is."""
import re
import sys

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
unnumbered = "--unnumbered" in sys.argv
volumes = any(re.match(r"^VOLUME [IVX]+$", line.strip()) for line in lines)
out = []
for line in lines:
    text = line.strip()
    if re.match(r"^VOLUME [IVX]+$", text):
        out.append(f"\n# {text.title()}\n")
    elif re.match(r"^(CHAPTER|Chapter) ([IVXL]+|\d+)$", text):
        mark = "##" if volumes else "#"
        out.append(f"\n{mark} {text.title()}{' {-}' if unnumbered else ''}\n")
    else:
        out.append(line.replace("*", "\\*").replace("_", "\\_"))
print("\n".join(out))
