//! Column alignment with the algorithm of Go's `text/tabwriter`, configured
//! the way Docker configures it for every table.
//!
//! Docker's `formatter.Context` writes tables through
//! `tabwriter.NewWriter(output, 10, 1, 3, ' ', 0)`: minimum cell width 10,
//! padding 3, space padding, no flags (left-aligned, empty columns kept).
//! Cells are *terminated* by `\t`; the text after the last tab of a line is
//! not part of any column and is never padded. A column block is a run of
//! consecutive lines that all have a cell in that column, and each block gets
//! the width `max(minwidth, widest cell + padding)`.

/// Docker's minimum cell width, padding included.
const DOCKER_MIN_WIDTH: usize = 10;
/// Docker's padding added to the widest cell of a column.
const DOCKER_PADDING: usize = 3;

/// A tab-terminated (or line-terminated) piece of text and its width in chars.
#[derive(Debug, Clone, Default)]
struct Cell {
    text: String,
    width: usize,
}

/// Buffers tab-separated text and lays it out in aligned columns on
/// [`finish`](Self::finish), exactly like Go's `text/tabwriter` with Docker's
/// settings.
///
/// Widths count Unicode scalar values (`char`s), as upstream Go does. (Docker
/// vendors a fork that measures with `go-runewidth`, so East Asian wide
/// characters there count as two columns.)
///
/// ```
/// use strata_cli::render::TabWriter;
///
/// let mut tw = TabWriter::new();
/// tw.write_str("REPOSITORY\tTAG\n");
/// tw.write_str("alpine\tlatest\n");
/// assert_eq!(tw.finish(), "REPOSITORY   TAG\nalpine       latest\n");
/// ```
#[derive(Debug, Clone)]
pub struct TabWriter {
    min_width: usize,
    padding: usize,
    pad_char: char,
    /// Completed lines since the last flush point, plus the current line last.
    lines: Vec<Vec<Cell>>,
    /// The cell being written (not yet terminated by a tab or line break).
    cell: Cell,
    out: String,
}

impl Default for TabWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl TabWriter {
    /// A writer with Docker's table settings (minwidth 10, padding 3, spaces).
    pub fn new() -> Self {
        Self::with_settings(DOCKER_MIN_WIDTH, DOCKER_PADDING, ' ')
    }

    /// A writer with other Go `tabwriter` settings (flags are always 0 and the
    /// padding character must not be a tab); mainly useful to check the
    /// algorithm against Go's own test table.
    pub fn with_settings(min_width: usize, padding: usize, pad_char: char) -> Self {
        TabWriter {
            min_width,
            padding,
            pad_char,
            lines: vec![Vec::new()],
            cell: Cell::default(),
            out: String::new(),
        }
    }

    /// Appends text. `\t` (and `\v`) terminate a cell, `\n` terminates a line,
    /// and `\f` terminates a line and closes every open column (as in Go).
    pub fn write_str(&mut self, s: &str) {
        for ch in s.chars() {
            match ch {
                '\t' | '\x0b' => self.terminate_cell(),
                '\n' | '\x0c' => {
                    self.terminate_cell();
                    self.lines.push(Vec::new());
                    if ch == '\x0c' {
                        self.flush();
                    }
                }
                _ => {
                    self.cell.text.push(ch);
                    self.cell.width += 1;
                }
            }
        }
    }

    /// Lays out everything written so far and returns the text.
    pub fn finish(mut self) -> String {
        if !self.cell.text.is_empty() {
            self.terminate_cell();
        }
        self.flush();
        self.out
    }

    fn terminate_cell(&mut self) {
        let cell = std::mem::take(&mut self.cell);
        match self.lines.last_mut() {
            Some(line) => line.push(cell),
            None => self.lines.push(vec![cell]),
        }
    }

    /// Formats the buffered lines into `out` and starts a fresh block.
    fn flush(&mut self) {
        let lines = std::mem::replace(&mut self.lines, vec![Vec::new()]);
        let mut widths = Vec::new();
        self.format(&lines, 0, lines.len(), &mut widths);
    }

    /// Go's recursive `format`: finds the column blocks of column
    /// `widths.len()` between `line0` and `line1`, fixes each block's width,
    /// and recurses into the columns to its right.
    fn format(
        &mut self,
        lines: &[Vec<Cell>],
        mut line0: usize,
        line1: usize,
        widths: &mut Vec<usize>,
    ) {
        let column = widths.len();
        // Width of line `this`'s cell in `column`, if that cell is tab-terminated
        // (the last cell of a line belongs to no column).
        let cell_width = |this: usize| {
            let line = lines.get(this)?;
            (column + 1 < line.len())
                .then(|| line.get(column))
                .flatten()
                .map(|cell| cell.width)
        };
        let mut this = line0;
        while this < line1 {
            if cell_width(this).is_none() {
                this += 1;
                continue;
            }
            self.write_lines(lines, line0, this, widths);
            line0 = this;
            let mut width = self.min_width;
            while let Some(cell) = cell_width(this).filter(|_| this < line1) {
                width = width.max(cell + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(lines, line0, this, widths);
            widths.pop();
            line0 = this;
        }
        self.write_lines(lines, line0, line1, widths);
    }

    /// Writes lines `line0..line1`, padding every cell that has a width.
    fn write_lines(&mut self, lines: &[Vec<Cell>], line0: usize, line1: usize, widths: &[usize]) {
        for (i, line) in lines.iter().enumerate().take(line1).skip(line0) {
            for (j, cell) in line.iter().enumerate() {
                self.out.push_str(&cell.text);
                if let Some(width) = widths.get(j) {
                    let pad = width.saturating_sub(cell.width);
                    self.out.extend(std::iter::repeat_n(self.pad_char, pad));
                }
            }
            // The last buffered line has no line break of its own.
            if i + 1 < lines.len() {
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(min_width: usize, padding: usize, pad_char: char, src: &str) -> String {
        let mut tw = TabWriter::with_settings(min_width, padding, pad_char);
        tw.write_str(src);
        tw.finish()
    }

    fn docker(src: &str) -> String {
        let mut tw = TabWriter::new();
        tw.write_str(src);
        tw.finish()
    }

    #[test]
    fn go_tabwriter_test_table_cases_pass() {
        let cases = [
            (8, 1, '.', "", ""),
            (8, 1, '.', "\n\n\n", "\n\n\n"),
            (8, 1, '.', "a\nb\nc", "a\nb\nc"),
            (8, 1, '.', "\t", ""),
            (8, 1, '.', "*\t*", "*.......*"),
            (8, 1, '.', "*\t*\n", "*.......*\n"),
            (8, 1, '.', "*\t*\t", "*.......*"),
            (8, 1, '.', "\t\n", "........\n"),
            (8, 1, ' ', "b) foo\tbar", "b) foo  bar"),
            (8, 1, '.', "e) foo\tbar\t\n", "e) foo..bar.....\n"),
            (
                1,
                0,
                '.',
                "1\t2\t3\t4\n11\t222\t3333\t44444\n",
                "1.2..3...4\n11222333344444\n",
            ),
            (
                1,
                0,
                '.',
                "1\t2\t3\t4\x0c11\t222\t3333\t44444\n",
                "1234\n11222333344444\n",
            ),
            (5, 0, '.', "1\t2\t3\t4\t\n", "1....2....3....4....\n"),
            (
                2,
                0,
                ' ',
                "a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n",
                "a  b  c\naa bbbcccc\naaabbbb\n",
            ),
            (4, 0, '.', "a\t\tb", "a.......b"),
        ];
        for (min_width, padding, pad_char, src, expected) in cases {
            assert_eq!(go(min_width, padding, pad_char, src), expected, "{src:?}");
        }
    }

    #[test]
    fn column_blocks_end_at_lines_with_fewer_cells() {
        let src = "4444\t333\t22\t1\t333\n999999999\t22\n7\t22\n\t\t\t88888888\n\n\
                   666666\t666666\t666666\t4444\n1\t1\t999999999\t0000000000\n";
        let expected = "4444........333...22...1...333\n999999999...22\n7...........22\n\
                        ....................88888888\n\n666666...666666...666666......4444\n\
                        1........1........999999999...0000000000\n";
        assert_eq!(go(4, 3, '.', src), expected);
    }

    #[test]
    fn unicode_cells_count_chars_not_bytes() {
        let src = "本\tb\tc\naa\t本本本\tcccc\tddddd\naaa\tbbbb\n";
        let expected = "本.......b.......c\naa......本本本.....cccc....ddddd\naaa.....bbbb\n";
        assert_eq!(go(8, 1, '.', src), expected);
        assert_eq!(docker("é\tx\n"), "é         x\n");
    }

    #[test]
    fn docker_settings_pad_to_ten_or_widest_plus_three() {
        let src = "REPOSITORY\tTAG\tIMAGE ID\nalpine\tlatest\ta1b2c3d4e5f6\nbusybox\t1.36\t0123456789ab\n";
        let expected = "REPOSITORY   TAG       IMAGE ID\n\
                        alpine       latest    a1b2c3d4e5f6\n\
                        busybox      1.36      0123456789ab\n";
        assert_eq!(docker(src), expected);
    }

    #[test]
    fn empty_cells_are_padded_and_trailing_text_is_not() {
        assert_eq!(
            docker("a\t\tc\nlonger\tb\t\n"),
            "a                   c\nlonger    b         \n"
        );
        assert_eq!(docker("x\ty"), "x         y");
    }

    #[test]
    fn text_written_in_pieces_lays_out_like_text_written_at_once() {
        let src = "NAME\tSIZE\nweb\t1.2MB\ndatabase-server\t77.8MB\n";
        let mut tw = TabWriter::default();
        src.chars().for_each(|c| tw.write_str(&c.to_string()));
        assert_eq!(tw.finish(), docker(src));
    }
}
