//! Where the frame's parts go: the header, the banner when there is one,
//! the breadcrumbs, the view's body and the footer, top to bottom. A tiny
//! terminal loses the banner, then the breadcrumbs, then the footer.

use ratatui::layout::Rect;

/// The screen's parts, top to bottom.
pub struct Areas {
    pub header: Rect,
    pub banner: Option<Rect>,
    pub crumbs: Rect,
    pub body: Rect,
    pub footer: Rect,
}

/// Where the parts go in `area`, with a banner line or not.
pub fn areas(banner: bool, area: Rect) -> Areas {
    let banner_h = u16::from(banner && area.height >= 6);
    let header_h = 1.min(area.height);
    let crumbs_h = u16::from(area.height >= 4);
    let footer_h = u16::from(area.height >= 2);
    let body_h = area
        .height
        .saturating_sub(header_h + banner_h + crumbs_h + footer_h);
    let row = |y: u16, h: u16| Rect::new(area.x, area.y + y, area.width, h);
    let header = row(0, header_h);
    let banner = (banner_h > 0).then(|| row(header_h, 1));
    let crumbs = row(header_h + banner_h, crumbs_h);
    let body = row(header_h + banner_h + crumbs_h, body_h);
    let footer = row(header_h + banner_h + crumbs_h + body_h, footer_h);
    Areas {
        header,
        banner,
        crumbs,
        body,
        footer,
    }
}
