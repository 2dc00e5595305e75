--[[
HTML only (_quarto.yml: filters; the filter checks FORMAT): in the supplement,
"Supplementary Table S4" and "Supplementary Figure S2" become links to that
float on the same page (issue 12, REVIEW item 26).

In the manuscript they stay plain text, as journals print them: a link from
report.html to supplement.html is relative and breaks as soon as the two files
travel separately, which is how a production office receives them (the
manuscript and each supplementary file are uploaded one by one, and the
journal publishes the supplement at an address it chooses later). The same
holds for Quarto's links to the other formats (report.pdf, report.docx), which
the documents switch off with `format-links: false` (quarto-cli
src/format/html/format-html.ts: no links when the option is false). So each
HTML file holds no link to another file; every link is inside its own page.

The labels are read from supplement.qmd, whose `::: {#supptbl-...}` /
`::: {#suppfig-...}` divs Quarto numbers S1, S2, ... in document order (the
order analysis/present/supplement.py declares); Quarto gives each float's HTML
element that label as its id.
]]

local SOURCE = "supplement.qmd"

local function project_dir()
  if quarto ~= nil and quarto.project ~= nil and quarto.project.directory ~= nil then
    return quarto.project.directory
  end
  return "."
end

local function read_labels()
  local f = io.open(project_dir() .. "/" .. SOURCE, "r")
  if f == nil then return nil end
  local labels = {Table = {}, Figure = {}}
  for line in f:lines() do
    local kind, name = line:match("^:::%s*{#supp(%a+)%-([%w%-]+)}")
    if kind == "tbl" then table.insert(labels.Table, "supptbl-" .. name)
    elseif kind == "fig" then table.insert(labels.Figure, "suppfig-" .. name) end
  end
  f:close()
  return labels
end

local function in_supplement()
  local input = ""
  if quarto ~= nil and quarto.doc ~= nil and quarto.doc.input_file ~= nil then
    input = quarto.doc.input_file
  elseif PANDOC_STATE ~= nil and PANDOC_STATE.input_files[1] ~= nil then
    input = PANDOC_STATE.input_files[1]
  end
  return input:match("supplement%.[%w]+$") ~= nil
end

local labels = nil

local function link_runs(inlines)
  local out = pandoc.Inlines({})
  local i = 1
  while i <= #inlines do
    local a, s1, b, s2, c = inlines[i], inlines[i + 1], inlines[i + 2], inlines[i + 3], inlines[i + 4]
    local matched = false
    local lead = a and a.t == "Str" and a.text:match("^(%p*)Supplementary$")
    if lead and s1 and s1.t == "Space"
       and b and b.t == "Str" and (b.text == "Table" or b.text == "Figure")
       and s2 and s2.t == "Space" and c and c.t == "Str" then
      local n, rest = c.text:match("^S(%d+)(.*)$")
      local label = n and labels[b.text][tonumber(n)]
      if label then
        if lead ~= "" then out:insert(pandoc.Str(lead)) end
        out:insert(pandoc.Link({pandoc.Str("Supplementary"), pandoc.Space(), pandoc.Str(b.text), pandoc.Space(),
                                pandoc.Str("S" .. n)}, "#" .. label))
        if rest ~= "" then out:insert(pandoc.Str(rest)) end
        i = i + 5
        matched = true
      end
    end
    if not matched then
      out:insert(inlines[i])
      i = i + 1
    end
  end
  return out
end

function Pandoc(doc)
  if not FORMAT:match("html") or not in_supplement() then return nil end
  labels = read_labels()
  if labels == nil then return nil end
  return doc:walk({Inlines = link_runs})
end
