--[[
Word title page with the same front matter as the HTML and PDF (issue 12,
REVIEW item 19): authors with superscript affiliation numbers, the numbered
affiliations, the corresponding author with e-mail, the running title and the
keywords, before the abstract. Pandoc's Word writer prints only the author
names (and keywords only in the document properties), so this filter writes
the title-page paragraphs itself, in Pandoc's own title-page styles (Author,
Abstract Title, Abstract; unknown styles such as Affiliation are created from
Normal and can be restyled in the reference document).

It reads authors as written (author: name, affiliations: [{ref}],
corresponding, email; affiliations: id, name) or as Quarto normalises them
(by-author: name.literal, affiliations as objects, attributes.corresponding;
quarto.org/docs/journals/authors.html), so it does not depend on whether it
runs before or after Quarto's own filters. Only for Word output (_quarto.yml:
format.docx.filters).
]]

local function text(x)
  if x == nil then return nil end
  local s = pandoc.utils.stringify(x)
  if s == "" then return nil end
  return s
end

local function affiliation_text(a)
  if type(a) ~= "table" then return text(a) end
  local parts = {}
  for _, key in ipairs({"department", "name", "city", "country"}) do
    local v = text(a[key])
    if v then table.insert(parts, v) end
  end
  if #parts == 0 then return text(a) end
  return table.concat(parts, ", ")
end

local function styled(style, blocks)
  return pandoc.Div(blocks, pandoc.Attr("", {}, {["custom-style"] = style}))
end

function Pandoc(doc)
  if FORMAT ~= "docx" then return nil end
  local meta = doc.meta
  local authors = meta["by-author"] or meta.authors or meta.author
  if authors == nil or #authors == 0 then return nil end

  local by_id = {}
  for _, a in ipairs(meta.affiliations or {}) do
    if type(a) == "table" and a.id then by_id[text(a.id)] = a end
  end

  local numbers, affiliations = {}, {}
  local line, corresponding = pandoc.Inlines({}), {}
  for i, author in ipairs(authors) do
    local name = author
    if type(author) == "table" and author.name ~= nil then name = author.name end
    if type(name) == "table" and name.literal ~= nil then name = name.literal end
    name = text(name) or ""
    local marks = {}
    if type(author) == "table" then
      for _, aff in ipairs(author.affiliations or {}) do
        local obj = aff
        if type(aff) == "table" and aff.ref ~= nil then obj = by_id[text(aff.ref)] or aff end
        local label = affiliation_text(obj)
        if label then
          if numbers[label] == nil then
            table.insert(affiliations, label)
            numbers[label] = #affiliations
          end
          table.insert(marks, tostring(numbers[label]))
        end
      end
      local attrs = author.attributes or {}
      if author.corresponding == true or attrs.corresponding == true then
        table.insert(marks, "*")
        table.insert(corresponding, name .. (text(author.email) and (", " .. text(author.email)) or ""))
      end
    end
    if i > 1 then line:insert(pandoc.Str(", ")) end
    line:insert(pandoc.Str(name))
    if #marks > 0 then
      local sup = table.concat(marks, ","):gsub(",%*", "*")
      line:insert(pandoc.Superscript({pandoc.Str(sup)}))
    end
  end

  local blocks = pandoc.Blocks({styled("Author", {pandoc.Para(line)})})
  for i, label in ipairs(affiliations) do
    blocks:insert(styled("Affiliation", {pandoc.Para({pandoc.Superscript({pandoc.Str(tostring(i))}),
                                                      pandoc.Str(label)})}))
  end
  if #corresponding > 0 then
    blocks:insert(pandoc.Para({pandoc.Str("*Corresponding author: " .. table.concat(corresponding, "; "))}))
  end
  if text(meta.shorttitle) then
    blocks:insert(pandoc.Para({pandoc.Str("Running title: " .. text(meta.shorttitle))}))
  end
  if meta.keywords ~= nil and #meta.keywords > 0 then
    local words = {}
    for _, k in ipairs(meta.keywords) do table.insert(words, text(k)) end
    blocks:insert(pandoc.Para({pandoc.Str("Keywords: " .. table.concat(words, "; "))}))
  end
  if meta.abstract ~= nil then
    local title = text(meta["abstract-title"]) or "Abstract"
    blocks:insert(styled("Abstract Title", {pandoc.Para({pandoc.Str(title)})}))
    local body = meta.abstract
    if pandoc.utils.type(body) == "Inlines" then body = {pandoc.Para(body)} end
    blocks:insert(styled("Abstract", body))
    meta.abstract = nil
  end
  -- the names are in the author line above; Pandoc would print them again
  meta.author, meta.authors, meta["by-author"] = nil, nil, nil
  doc.meta = meta
  doc.blocks = blocks .. doc.blocks
  return doc
end
