-- docx-fig-alt.lua: the `fig-alt` text of each figure as its Word alt text.
--
-- Pandoc's Word writer fills a picture's alt text (<wp:docPr descr=...>) from
-- the image's description, i.e. its inline content ("![description](file)").
-- Quarto does not put `fig-alt` there for Word (quarto-cli issue #5514, open;
-- epic #14348): its Jupyter engine writes a computed figure as
-- `![](file.png){fig-alt='...'}` (src/core/jupyter/jupyter.ts, mdImageOutput),
-- and for a `fig-` float its pre-filter moves `fig-alt` to the image's `alt`
-- attribute (src/resources/filters/quarto-pre/figures.lua), which the Word
-- writer ignores; custom floats (Figure S1 ...) are not handled at all. Every
-- Word figure therefore had empty alt text (render review 2026-12-06, item 21).
--
-- This filter runs for Word output only, after Quarto's own filters
-- (`at: post-render` in _quarto.yml, quarto.org/docs/advanced/quarto-ast.html),
-- and gives every image without a description the text of, in this order, its
-- `alt` attribute, its `fig-alt` attribute, or the `fig-alt` of the nearest
-- enclosing element. An image that has a description keeps it.

if not FORMAT:match("docx") then
  return {}
end

local function describe(image, text)
  if text ~= nil and text ~= "" and pandoc.utils.stringify(image.caption) == "" then
    image.caption = pandoc.Inlines(text)
  end
  image.attributes["fig-alt"] = nil
  return image
end

local function own_text(image)
  return image.attributes["alt"] or image.attributes["fig-alt"]
end

-- an element carrying fig-alt passes it to the images inside it
local function propagate(el)
  local text = el.attributes and el.attributes["fig-alt"]
  if text == nil then
    return nil
  end
  el.attributes["fig-alt"] = nil
  return el:walk({
    Image = function(image)
      return describe(image, own_text(image) or text)
    end,
  })
end

return {
  -- Pandoc visits blocks bottom-up, so the nearest enclosing fig-alt is applied first
  { Div = propagate, Figure = propagate },
  { Image = function(image) return describe(image, own_text(image)) end },
}
