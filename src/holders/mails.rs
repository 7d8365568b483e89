//! The texts of the mails holders get, Chinese first and English after in one plain-text
//! message (the recipient may read either; the pages pick one language, mail cannot).

pub struct Text {
    pub subject: String,
    pub body: String,
}

pub fn verify_email(public_url: &str, token: &str, hours: u64) -> Text {
    let link = format!("{public_url}/account/verify-email/{token}");
    Text {
        subject: "请确认您的邮箱 / Confirm your email address".into(),
        body: format!(
            "您好：\n\n请打开以下链接确认您的邮箱地址（{hours} 小时内有效，仅可使用一次）：\n\n{link}\n\n\
             如果您没有注册，请忽略本邮件。\n\n\
             ----\n\n\
             Hello,\n\nOpen this link to confirm your email address (valid for {hours} hours, \
             one use only):\n\n{link}\n\n\
             If you did not register, ignore this message.\n"
        ),
    }
}

/// To the owner of an address someone tried to register again: no link, no account made.
pub fn address_taken(public_url: &str) -> Text {
    Text {
        subject: "有人尝试用您的邮箱注册 / Someone tried to register with your address".into(),
        body: format!(
            "您好：\n\n有人尝试用本邮箱地址注册新账户。您已有账户，无需再次注册。\
             如果是您本人，请登录或重设密码：\n\n{public_url}/account/login\n{public_url}/account/reset\n\n\
             如果不是您本人，请忽略本邮件，您的账户没有任何变化。\n\n\
             ----\n\n\
             Hello,\n\nSomeone tried to register a new account with this address. You already \
             have an account. If it was you, log in or reset your password:\n\n\
             {public_url}/account/login\n{public_url}/account/reset\n\n\
             If it was not you, ignore this message: nothing changed on your account.\n"
        ),
    }
}

pub fn reset_password(public_url: &str, token: &str, minutes: u64) -> Text {
    let link = format!("{public_url}/account/reset/{token}");
    Text {
        subject: "重设密码 / Reset your password".into(),
        body: format!(
            "您好：\n\n请打开以下链接设置新密码（{minutes} 分钟内有效，仅可使用一次）：\n\n{link}\n\n\
             设置新密码后，所有已登录的会话都将退出。如果您没有申请，请忽略本邮件。\n\n\
             ----\n\n\
             Hello,\n\nOpen this link to choose a new password (valid for {minutes} minutes, \
             one use only):\n\n{link}\n\n\
             Setting it logs out every session. If you did not ask for this, ignore this message.\n"
        ),
    }
}
