--[[
HTML only (_quarto.yml: format.html.filters): "Supplementary Table S4" and
"Supplementary Figure S2" in the text become links to that float of the
supplement (issue 12, REVIEW item 26): in the manuscript to
supplement.html#<label>, in the supplement to #<label> on the same page.

The manuscript cannot cross-reference into another document, so the numbers
are plain text there. The labels are read from supplement.qmd, whose
`::: {#supptbl-...}` / `::: {#suppfig-...}` divs Quarto numbers S1, S2, ... in
document order (the order analysis/present/supplement.py declares); Quarto
gives each float's HTML element that label as its id.
]]

local SOURCE = "supplement.qmd"
local TARGET = "supplement.html"

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
local prefix = TARGET

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
                                pandoc.Str("S" .. n)}, prefix .. "#" .. label))
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
  if not FORMAT:match("html") then return nil end
  labels = read_labels()
  if labels == nil then return nil end
  prefix = in_supplement() and "" or TARGET
  return doc:walk({Inlines = link_runs})
end
