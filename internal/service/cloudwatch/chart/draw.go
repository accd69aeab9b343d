package chart

import (
	"image"
	"image/color"
)

// Text metrics at scale 1: glyphs are 5×8 with one column of spacing.
const (
	charW  = 6
	charH  = 8
	glyphW = 5
)

// canvas draws onto an RGBA image, clipped to clip.
type canvas struct {
	img  *image.RGBA
	clip image.Rectangle
}

func (c *canvas) set(x, y int, col color.RGBA) {
	if x < c.clip.Min.X || y < c.clip.Min.Y || x >= c.clip.Max.X || y >= c.clip.Max.Y {
		return
	}
	i := c.img.PixOffset(x, y)
	p := c.img.Pix[i : i+4 : i+4]
	p[0], p[1], p[2], p[3] = col.R, col.G, col.B, 255
}

// blend mixes col into the pixel with opacity a/255.
func (c *canvas) blend(x, y int, col color.RGBA, a uint8) {
	if x < c.clip.Min.X || y < c.clip.Min.Y || x >= c.clip.Max.X || y >= c.clip.Max.Y {
		return
	}
	i := c.img.PixOffset(x, y)
	p := c.img.Pix[i : i+4 : i+4]
	aa, na := uint32(a), 255-uint32(a)
	p[0] = uint8((uint32(p[0])*na + uint32(col.R)*aa) / 255)
	p[1] = uint8((uint32(p[1])*na + uint32(col.G)*aa) / 255)
	p[2] = uint8((uint32(p[2])*na + uint32(col.B)*aa) / 255)
}

func (c *canvas) fill(r image.Rectangle, col color.RGBA) {
	r = r.Intersect(c.clip)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c.set(x, y, col)
		}
	}
}

func (c *canvas) fillAlpha(r image.Rectangle, col color.RGBA, a uint8) {
	r = r.Intersect(c.clip)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c.blend(x, y, col, a)
		}
	}
}

func (c *canvas) hline(x0, x1, y int, col color.RGBA) {
	if x0 > x1 {
		x0, x1 = x1, x0
	}
	for x := x0; x <= x1; x++ {
		c.set(x, y, col)
	}
}

func (c *canvas) vline(x, y0, y1 int, col color.RGBA) {
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	for y := y0; y <= y1; y++ {
		c.set(x, y, col)
	}
}

// dashedH draws a horizontal dashed line (4 on, 3 off).
func (c *canvas) dashedH(x0, x1, y int, col color.RGBA) {
	for x := x0; x <= x1; x++ {
		if (x-x0)%7 < 4 {
			c.set(x, y, col)
		}
	}
}

// line draws a segment w pixels thick (Bresenham with a square brush).
func (c *canvas) line(x0, y0, x1, y1, w int, col color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	off := (w - 1) / 2
	for {
		for by := 0; by < w; by++ {
			for bx := 0; bx < w; bx++ {
				c.set(x0+bx-off, y0+by-off, col)
			}
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// text draws s with its top-left corner at (x, y) and returns the x after
// it. bold draws each glyph twice, one pixel apart.
func (c *canvas) text(x, y int, s string, scale int, bold bool, col color.RGBA) int {
	adv := charW * scale
	if bold {
		adv += scale
	}
	for _, r := range s {
		g := glyph(r)
		for cx := 0; cx < glyphW; cx++ {
			bits := g[cx]
			for cy := 0; cy < charH; cy++ {
				if bits&(1<<cy) == 0 {
					continue
				}
				for k := 0; k <= b2i(bold); k++ {
					for py := 0; py < scale; py++ {
						for px := 0; px < scale; px++ {
							c.set(x+(cx+k)*scale+px, y+cy*scale+py, col)
						}
					}
				}
			}
		}
		x += adv
	}
	return x
}

// textUp draws s rotated 90° counter-clockwise (reading bottom to top) with
// the baseline start at (x, y): the text occupies [x, x+charH) × (y-len, y].
func (c *canvas) textUp(x, y int, s string, col color.RGBA) {
	for _, r := range s {
		g := glyph(r)
		for cx := 0; cx < glyphW; cx++ {
			for cy := 0; cy < charH; cy++ {
				if g[cx]&(1<<cy) != 0 {
					c.set(x+cy, y-cx, col)
				}
			}
		}
		y -= charW
	}
}

// textWidth is the width of s at scale.
func textWidth(s string, scale int, bold bool) int {
	n := 0
	for range s {
		n++
	}
	adv := charW * scale
	if bold {
		adv += scale
	}
	if n == 0 {
		return 0
	}
	return n*adv - scale
}

// fitText shortens s with "..." so that it is at most w pixels wide.
func fitText(s string, w, scale int, bold bool) string {
	if textWidth(s, scale, bold) <= w {
		return s
	}
	adv := charW * scale
	if bold {
		adv += scale
	}
	// n characters take n*adv - scale pixels; keep n-3 of s plus "...".
	n := (w + scale) / adv
	if n <= 3 {
		return ""
	}
	keep := n - 3
	for i := range s {
		if keep == 0 {
			return s[:i] + "..."
		}
		keep--
	}
	return s
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
